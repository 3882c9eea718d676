package dev.anvil.core.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.anvil.core.spec.ScheduleSpec;
import org.junit.jupiter.api.Test;

class OptimizerTest {

  @Test
  void plainSgdStepsAgainstTheGradient() {
    Sgd sgd = new Sgd(0, false, 0);
    float[] p = {1f, -2f};
    OptimizerState s = sgd.step(p, new float[] {0.5f, -1f}, 0.1, sgd.initialState(2));
    assertArrayEquals(new float[] {1f - 0.1f * 0.5f, -2f + 0.1f}, p);
    assertEquals(1, s.steps());
    assertEquals(0, s.slots().length);
  }

  @Test
  void momentumFollowsPyTorchsFormulation() {
    Sgd sgd = new Sgd(0.9, false, 0);
    float[] p = {0f};
    OptimizerState s = sgd.initialState(1);
    s = sgd.step(p, new float[] {1f}, 1.0, s); // v = g = 1
    assertEquals(-1f, p[0]);
    s = sgd.step(p, new float[] {1f}, 1.0, s); // v = 0.9 * 1 + 1 = 1.9
    assertEquals(-1f - 1.9f, p[0]);
    assertEquals(1.9f, s.slots()[0][0]);
  }

  @Test
  void nesterovAndWeightDecay() {
    Sgd sgd = new Sgd(0.5, true, 0.1);
    float[] p = {2f};
    OptimizerState s = sgd.step(p, new float[] {1f}, 1.0, sgd.initialState(1));
    // g = 1 + 0.1 * 2 = 1.2; v = 1.2; step = g + 0.5 * v = 1.8
    assertEquals(2f - (1.2f + 0.5f * 1.2f), p[0]);
    assertEquals(1, s.steps());
  }

  @Test
  void adamsFirstStepMovesByTheLearningRate() {
    Adam adam = new Adam(0.9, 0.999, 1e-8, 0);
    float[] p = {0f, 0f};
    adam.step(p, new float[] {3f, -0.01f}, 0.01, adam.initialState(2));
    assertEquals(-0.01f, p[0], 1e-7f);
    assertEquals(0.01f, p[1], 1e-6f);
  }

  @Test
  void schedules() {
    LearningRateSchedule step =
        new LearningRateSchedule(new ScheduleSpec.Step(2, 0.5), 0.1, 100, 10);
    assertEquals(0.1, step.at(19), 1e-15);
    assertEquals(0.05, step.at(20), 1e-15);
    assertEquals(0.025, step.at(45), 1e-15);
    LearningRateSchedule cosine =
        new LearningRateSchedule(new ScheduleSpec.Cosine(0.01), 0.1, 101, 10);
    assertEquals(0.1, cosine.at(0), 1e-15);
    assertEquals(0.055, cosine.at(50), 1e-12);
    assertEquals(0.01, cosine.at(100), 1e-15);
    assertEquals(0.3, new LearningRateSchedule(new ScheduleSpec.Constant(), 0.3, 5, 1).at(4));
  }
}
