package dev.anvil.core.train;

import java.util.function.IntConsumer;

/**
 * Runs {@code tasks} indexed tasks, possibly at once, and returns when all are done. Used for work
 * whose result must not depend on how it is split (each task writes its own disjoint part).
 */
public interface Parallel {
  Parallel SEQUENTIAL =
      new Parallel() {
        @Override
        public int width() {
          return 1;
        }

        @Override
        public void forEach(int tasks, IntConsumer task) {
          for (int i = 0; i < tasks; i++) {
            task.accept(i);
          }
        }
      };

  /** How many tasks can run at once. */
  int width();

  /** Runs {@code task.accept(i)} for {@code i} in {@code [0, tasks)}; rethrows a task's failure. */
  void forEach(int tasks, IntConsumer task);
}
