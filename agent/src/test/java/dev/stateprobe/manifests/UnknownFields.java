package dev.stateprobe.manifests;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * fabric8 never rejects a field it does not know: it keeps it in {@code additionalProperties}. A
 * misspelt {@code readOnlyRootFileSystem} would therefore parse, and the API server would drop it.
 * This walks a parsed object and reports every such field with its path.
 */
final class UnknownFields {
  private UnknownFields() {}

  static List<String> of(Object root) {
    List<String> found = new ArrayList<>();
    walk(root, "", found);
    return found;
  }

  private static void walk(Object value, String path, List<String> found) {
    if (value == null) {
      return;
    }
    if (value instanceof Map<?, ?> map) {
      map.forEach((k, v) -> walk(v, path + "[" + k + "]", found));
      return;
    }
    if (value instanceof Collection<?> list) {
      int i = 0;
      for (Object item : list) {
        walk(item, path + "[" + i++ + "]", found);
      }
      return;
    }
    if (!isModel(value.getClass()) || value instanceof GenericKubernetesResource) {
      return; // a generic resource is nothing but "additional" properties
    }
    for (Method m : value.getClass().getMethods()) {
      if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers())) {
        continue;
      }
      String name = m.getName();
      // JSONSchemaProps has a getAdditionalProperties too: the schema keyword, not unknown fields.
      if (name.equals("getAdditionalProperties") && Map.class.isAssignableFrom(m.getReturnType())) {
        Map<?, ?> extra = (Map<?, ?>) invoke(m, value);
        if (extra != null && !extra.isEmpty()) {
          found.add((path.isEmpty() ? "." : path) + " has unknown fields " + extra.keySet());
        }
      } else if (name.startsWith("get") && name.length() > 3 && followable(m.getReturnType())) {
        walk(
            invoke(m, value),
            path + "." + Character.toLowerCase(name.charAt(3)) + name.substring(4),
            found);
      }
    }
  }

  private static boolean followable(Class<?> type) {
    return Map.class.isAssignableFrom(type)
        || Collection.class.isAssignableFrom(type)
        || isModel(type);
  }

  private static boolean isModel(Class<?> type) {
    return type.getName().startsWith("io.fabric8.kubernetes.api.model.");
  }

  private static Object invoke(Method m, Object target) {
    try {
      return m.invoke(target);
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new AssertionError("cannot read " + m + ": " + e, e);
    }
  }
}
