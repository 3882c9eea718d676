package dev.anvil.core.spec;

import java.util.List;

/** A job spec that cannot run. Carries every problem found, not only the first. */
public final class JobSpecException extends RuntimeException {
  private final List<Problem> problems;

  public JobSpecException(String source, List<Problem> problems) {
    super(render(source, problems));
    this.problems = List.copyOf(problems);
  }

  public List<Problem> problems() {
    return problems;
  }

  private static String render(String source, List<Problem> problems) {
    StringBuilder sb = new StringBuilder("invalid job spec ").append(source).append(':');
    for (Problem p : problems) {
      sb.append("\n  - ").append(p);
    }
    return sb.toString();
  }
}
