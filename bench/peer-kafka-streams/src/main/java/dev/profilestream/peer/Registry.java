package dev.profilestream.peer;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * The few Confluent-compatible registry calls the peer needs (Maven Central has no Confluent serde):
 * writer schema by id, and registering the output schema under {@code <topic>-value}.
 */
final class Registry {
  private final String base;
  private final HttpClient http = HttpClient.newHttpClient();
  private final ConcurrentHashMap<Integer, Schema> byId = new ConcurrentHashMap<>();

  Registry(String base) {
    this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
  }

  Schema schemaById(int id) {
    return byId.computeIfAbsent(id, i -> {
      String body = call(HttpRequest.newBuilder(URI.create(base + "/schemas/ids/" + i)).GET());
      String schemaJson = json(body).get("schema").asText();
      return new Schema.Parser().parse(schemaJson);
    });
  }

  int register(String subject, Schema schema) {
    String payload = "{\"schema\":" + quote(schema.toString()) + "}";
    for (int attempt = 0; ; attempt++) {
      try {
        String body = call(HttpRequest.newBuilder(URI.create(base + "/subjects/" + subject + "/versions"))
            .header("Content-Type", "application/vnd.schemaregistry.v1+json")
            .POST(HttpRequest.BodyPublishers.ofString(payload)));
        return json(body).get("id").asInt();
      } catch (RuntimeException e) {
        if (attempt >= 5) throw e;
        try { Thread.sleep(200L * (attempt + 1)); } catch (InterruptedException ie) { throw new RuntimeException(ie); }
      }
    }
  }

  private String call(HttpRequest.Builder request) {
    try {
      HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() / 100 != 2) throw new IllegalStateException("registry " + r.statusCode() + ": " + r.body());
      return r.body();
    } catch (java.io.IOException | InterruptedException e) {
      throw new RuntimeException(e);
    }
  }

  private static com.fasterxml.jackson.databind.JsonNode json(String body) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().readTree(body);
    } catch (java.io.IOException e) {
      throw new RuntimeException(e);
    }
  }

  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> { if (c < 0x20) b.append(String.format("\\u%04x", (int) c)); else b.append(c); }
      }
    }
    return b.append('"').toString();
  }
}
