package dev.anvil.core.model;

import dev.anvil.core.data.DataShape;
import dev.anvil.core.kernel.Kernel;
import dev.anvil.core.spec.JobSpecException;
import dev.anvil.core.spec.ModelSpec;
import dev.anvil.core.spec.Problem;
import dev.anvil.core.spec.Sizes;
import dev.anvil.core.spec.SpecRules;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.List;

/** Builds the model a job names, checking its sizes against the loaded data. */
public final class Models {
  private Models() {}

  /**
   * The model for {@code spec} on data of {@code shape}. Sizes the spec leaves out are taken from
   * the data; sizes it gives must match the data, or a {@link JobSpecException} names them.
   */
  public static Model create(ModelSpec spec, DataShape shape, Kernel kernel, String origin) {
    return create(spec, shape, kernel, origin, SpecRules.defaults().maxParameters());
  }

  /**
   * Like {@link #create(ModelSpec, DataShape, Kernel, String)}, refusing (before anything is
   * allocated) a model of more than {@code maxParameters} parameters at the data's sizes.
   */
  public static Model create(
      ModelSpec spec, DataShape shape, Kernel kernel, String origin, long maxParameters) {
    int outputs =
        spec instanceof ModelSpec.Linear && shape.outputs() > 0 ? shape.outputs() : shape.classes();
    long parameters = Sizes.parameters(spec, shape.features(), outputs);
    if (parameters > maxParameters) {
      throw new JobSpecException(
          origin,
          List.of(
              new Problem(
                  "job.model",
                  parameters + " parameters at the data's sizes",
                  "at most "
                      + maxParameters
                      + " (anvil.limits.parameters, and what one message of"
                      + " pekko.remote.artery.advanced.maximum-frame-size carries)")));
    }
    List<Problem> problems = new ArrayList<>();
    Model model = build(spec, shape, kernel, problems);
    if (!problems.isEmpty()) {
      throw new JobSpecException(origin, problems);
    }
    return model;
  }

  private static Model build(
      ModelSpec spec, DataShape shape, Kernel kernel, List<Problem> problems) {
    if (spec instanceof ModelSpec.Mlp mlp) {
      List<Integer> layers = mlp.layers();
      requireClassification(shape, "mlp", problems);
      check("job.model.layers[0]", layers.get(0), shape.features(), "features", problems);
      int last = layers.size() - 1;
      check(
          "job.model.layers[" + last + "]", layers.get(last), shape.classes(), "classes", problems);
      return DenseNetwork.mlp(layers, mlp.activation(), kernel);
    } else if (spec instanceof ModelSpec.Softmax s) {
      requireClassification(shape, "softmax", problems);
      int inputs = s.inputs().orElse(shape.features());
      int classes = s.classes().orElse(shape.classes());
      check("job.model.inputs", inputs, shape.features(), "features", problems);
      check("job.model.classes", classes, shape.classes(), "classes", problems);
      return DenseNetwork.softmax(inputs, classes, kernel);
    } else if (spec instanceof ModelSpec.Linear lin) {
      int dataOutputs = shape.outputs() > 0 ? shape.outputs() : shape.classes();
      int inputs = lin.inputs().orElse(shape.features());
      int outputs = lin.outputs().orElse(dataOutputs);
      check("job.model.inputs", inputs, shape.features(), "features", problems);
      check(
          "job.model.outputs",
          outputs,
          dataOutputs,
          shape.outputs() > 0 ? "target columns" : "classes (one-hot targets)",
          problems);
      return DenseNetwork.linear(inputs, outputs, kernel);
    }
    return custom(((ModelSpec.Custom) spec).className(), shape, kernel, problems);
  }

  private static void requireClassification(DataShape shape, String type, List<Problem> problems) {
    if (!shape.classification()) {
      problems.add(
          new Problem(
              "job.model.type",
              type,
              "needs class labels (whole numbers >= 0),"
                  + " but the data's labels are real numbers; use type = linear for regression"));
    }
  }

  private static void check(String path, int given, int data, String what, List<Problem> problems) {
    if (given != data) {
      problems.add(
          new Problem(path, String.valueOf(given), "must equal the data's " + data + " " + what));
    }
  }

  private static Model custom(
      String className, DataShape shape, Kernel kernel, List<Problem> problems) {
    try {
      // Loaded without running its static initialiser: nothing of a class runs before it is
      // known to be a Model.
      Class<?> type =
          Class.forName(
              className,
              false,
              Thread.currentThread().getContextClassLoader() != null
                  ? Thread.currentThread().getContextClassLoader()
                  : Models.class.getClassLoader());
      if (!Model.class.isAssignableFrom(type)) {
        problems.add(
            new Problem("job.model.class", className, "must implement dev.anvil.core.model.Model"));
        return null;
      }
      try {
        Constructor<?> c = type.getConstructor(DataShape.class, Kernel.class);
        return (Model) c.newInstance(shape, kernel);
      } catch (NoSuchMethodException e) {
        return (Model) type.getConstructor().newInstance();
      }
    } catch (ClassNotFoundException e) {
      problems.add(new Problem("job.model.class", className, "no such class on the classpath"));
    } catch (NoSuchMethodException e) {
      problems.add(
          new Problem(
              "job.model.class",
              className,
              "needs a public constructor"
                  + " (DataShape, Kernel) or a public no-argument constructor"));
    } catch (InvocationTargetException | InstantiationException | IllegalAccessException e) {
      Throwable cause = e instanceof InvocationTargetException ? e.getCause() : e;
      problems.add(new Problem("job.model.class", className, "could not be created: " + cause));
    }
    return null;
  }
}
