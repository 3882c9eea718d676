package dev.anvil.core.spec;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The size checks a job passes before anything is allocated for it: how many parameters its model
 * has and how many bytes its data takes, computed exactly (in {@code long}, every factor bounded by
 * the parser, so no product overflows) from what the spec says. Sizes that depend on data files (a
 * softmax's classes from a CSV) are checked again once the data's shape is known, by {@link
 * #parameters(ModelSpec, int, int)} before the model is built.
 */
public final class Sizes {
  private Sizes() {}

  static void check(SpecReader r, ModelSpec model, DataSpec data, SpecRules rules) {
    int features = 0;
    int classes = 0;
    if (data instanceof DataSpec.Synthetic s && s.samples() > 0 && s.features() > 0) {
      features = s.features();
      classes = s.classes();
      long values = (long) s.samples() * s.features();
      long bytes = 4 * values + 4L * s.samples() + 16L * s.classes() * s.features();
      if (values > SpecRules.MAX_ARRAY || bytes > rules.maxDataBytes()) {
        r.problem(
            "job.data",
            s.samples() + " x " + s.features() + " samples x features (" + bytes + " bytes)",
            "at most anvil.limits.data-bytes = "
                + rules.maxDataBytes()
                + " bytes (and fewer than 2^31 values)");
      }
    } else if (data instanceof DataSpec.Csv c) {
      checkFiles(r, List.of(c.path()), rules);
    } else if (data instanceof DataSpec.Idx idx) {
      checkFiles(r, idxFiles(idx.path()), rules);
    }
    long parameters = parameters(model, features, classes);
    if (parameters > rules.maxParameters()) {
      r.problem(
          "job.model",
          parameters + " parameters",
          "at most "
              + rules.maxParameters()
              + " (anvil.limits.parameters, and what one message of"
              + " pekko.remote.artery.advanced.maximum-frame-size carries)");
    }
  }

  /**
   * The model's parameter count, or 0 when it depends on sizes not known yet ({@code features} and
   * {@code classes} 0 = unknown) or on a user's class.
   */
  public static long parameters(ModelSpec model, int features, int classes) {
    if (model instanceof ModelSpec.Mlp mlp) {
      List<Integer> layers = mlp.layers();
      long total = 0;
      for (int i = 0; i + 1 < layers.size(); i++) {
        total += ((long) layers.get(i) + 1) * layers.get(i + 1);
        if (total > Long.MAX_VALUE / 4) {
          return Long.MAX_VALUE; // a file of the user's own with millions of huge layers
        }
      }
      return total;
    } else if (model instanceof ModelSpec.Softmax s) {
      return dense(s.inputs().orElse(features), s.classes().orElse(classes));
    } else if (model instanceof ModelSpec.Linear l) {
      return dense(l.inputs().orElse(features), l.outputs().orElse(classes));
    }
    return 0;
  }

  private static long dense(int inputs, int outputs) {
    return ((long) inputs + 1) * outputs;
  }

  private static void checkFiles(SpecReader r, List<Path> files, SpecRules rules) {
    long bytes = 0;
    for (Path f : files) {
      try {
        bytes += Files.isRegularFile(f) ? Files.size(f) : 0;
      } catch (IOException | SecurityException e) {
        // Unreadable: loading the data reports it.
      }
    }
    if (bytes > rules.maxDataBytes()) {
      r.problem(
          "job.data.path",
          "data files of " + bytes + " bytes",
          "at most" + " anvil.limits.data-bytes = " + rules.maxDataBytes() + " bytes");
    }
  }

  /** The IDX files of a folder (gzipped ones count as they are stored; the reader caps them). */
  private static List<Path> idxFiles(Path folder) {
    if (!Files.isDirectory(folder)) {
      return List.of();
    }
    try (DirectoryStream<Path> s = Files.newDirectoryStream(folder, "*-idx[13]-ubyte*")) {
      List<Path> out = new java.util.ArrayList<>();
      s.forEach(out::add);
      return out;
    } catch (IOException | SecurityException e) {
      return List.of();
    }
  }
}
