package bench;

import io.confluent.parallelconsumer.ParallelConsumerOptions;
import io.confluent.parallelconsumer.ParallelConsumerOptions.ProcessingOrder;
import io.confluent.parallelconsumer.ParallelStreamProcessor;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The benchmark's Java peer: Confluent's Parallel Consumer with key ordering, as a Java team
 * would write this processor with it.
 *
 * <ul>
 *   <li>{@code copy}: every input record copied (key, value, headers) to VALID_TOPIC,
 *       {@code pollAndProduceMany} over batches of PC_BATCH_SIZE records.
 *   <li>{@code slow}: every record decoded (Avro, schemas/SignupEvent.avsc), its address POSTed
 *       to PROVIDER_URL ({@code {"email": …}}, one call per record, PC_MAX_CONCURRENCY at once),
 *       then one result produced: VALID_TOPIC for "deliverable", INVALID_TOPIC otherwise,
 *       DLQ_TOPIC for a record that does not decode or a failed call.
 * </ul>
 *
 * Settings from arguments {@code NAME=value} over the environment: KAFKA_BROKERS, KAFKA_GROUP_ID,
 * INPUT_TOPIC, VALID_TOPIC, INVALID_TOPIC, DLQ_TOPIC, PC_MODE (copy|slow), PC_MAX_CONCURRENCY,
 * PC_BATCH_SIZE, PROVIDER_URL. Offsets: PC's default commit mode (periodic asynchronous consumer
 * commits of what has been produced). Ends on SIGTERM, closing the processor (drain, commit).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> cfg = new HashMap<>(System.getenv());
    for (String a : args) {
      int eq = a.indexOf('=');
      if (eq <= 0) throw new IllegalArgumentException("arguments are NAME=value, got " + a);
      cfg.put(a.substring(0, eq), a.substring(eq + 1));
    }
    String mode = get(cfg, "PC_MODE", "copy");
    if (!mode.equals("copy") && !mode.equals("slow"))
      throw new IllegalArgumentException("PC_MODE must be copy or slow, got " + mode);
    String brokers = need(cfg, "KAFKA_BROKERS");
    String input = need(cfg, "INPUT_TOPIC");
    String valid = need(cfg, "VALID_TOPIC");
    String invalid = get(cfg, "INVALID_TOPIC", valid);
    String dlq = get(cfg, "DLQ_TOPIC", valid);
    int concurrency = Integer.parseInt(get(cfg, "PC_MAX_CONCURRENCY", mode.equals("copy") ? "16" : "32"));
    int batchSize = Integer.parseInt(get(cfg, "PC_BATCH_SIZE", mode.equals("copy") ? "100" : "1"));

    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    c.put(ConsumerConfig.GROUP_ID_CONFIG, need(cfg, "KAFKA_GROUP_ID"));
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, get(cfg, "KAFKA_CLIENT_ID", "pc-bench") + "-consumer");
    // PC commits itself; it refuses a consumer that auto-commits.
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, get(cfg, "KAFKA_CLIENT_ID", "pc-bench") + "-producer");
    // kafka-clients 3.x defaults: idempotent, acks=all, murmur2 key partitioner (as KafkaJS's default).
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());

    ParallelConsumerOptions<byte[], byte[]> options =
        ParallelConsumerOptions.<byte[], byte[]>builder()
            .ordering(ProcessingOrder.KEY)
            .maxConcurrency(concurrency)
            .batchSize(batchSize)
            .consumer(new KafkaConsumer<>(c))
            .producer(new KafkaProducer<>(p))
            .build();
    ParallelStreamProcessor<byte[], byte[]> pc = ParallelStreamProcessor.createEosStreamProcessor(options);
    pc.subscribe(List.of(input));
    System.err.printf(
        "pc-bench %s: ordering KEY, maxConcurrency %d, batchSize %d, input %s%n", mode, concurrency, batchSize, input);

    if (mode.equals("copy")) {
      pc.pollAndProduceMany(
          ctx -> {
            List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>((int) ctx.size());
            for (ConsumerRecord<byte[], byte[]> r : ctx.getConsumerRecordsFlattened())
              out.add(new ProducerRecord<>(valid, null, r.key(), r.value(), r.headers()));
            return out;
          });
    } else {
      Slow slow = new Slow(need(cfg, "PROVIDER_URL"), valid, invalid, dlq);
      pc.pollAndProduceMany(
          ctx -> {
            List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>((int) ctx.size());
            for (ConsumerRecord<byte[], byte[]> r : ctx.getConsumerRecordsFlattened()) out.add(slow.handle(r));
            return out;
          });
    }

    CountDownLatch closed = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    pc.close();
                  } finally {
                    closed.countDown();
                  }
                }));
    closed.await();
  }

  /** One record: decode, one provider call, one result. */
  static final class Slow {
    private final HttpClient http =
        HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    private final URI provider;
    private final String valid;
    private final String invalid;
    private final String dlq;
    private final GenericDatumReader<GenericRecord> reader;

    Slow(String url, String valid, String invalid, String dlq) throws Exception {
      this.provider = URI.create(url);
      this.valid = valid;
      this.invalid = invalid;
      this.dlq = dlq;
      try (InputStream in = Main.class.getResourceAsStream("/SignupEvent.avsc")) {
        this.reader = new GenericDatumReader<>(new Schema.Parser().parse(in));
      }
    }

    ProducerRecord<byte[], byte[]> handle(ConsumerRecord<byte[], byte[]> r) {
      String email;
      String eventId;
      try {
        GenericRecord event = reader.read(null, DecoderFactory.get().binaryDecoder(r.value(), null));
        email = event.get("email").toString();
        eventId = event.get("eventId").toString();
      } catch (Exception e) {
        return new ProducerRecord<>(dlq, null, r.key(), r.value(), r.headers());
      }
      String body = "{\"email\":" + json(email) + "}";
      HttpRequest req =
          HttpRequest.newBuilder(provider)
              .timeout(Duration.ofSeconds(10))
              .header("content-type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(body))
              .build();
      String result;
      try {
        HttpResponse<String> res = http.send(req, HttpResponse.BodyHandlers.ofString());
        if (res.statusCode() != 200) throw new IllegalStateException("provider answered " + res.statusCode());
        result = res.body().contains("\"result\":\"deliverable\"") ? "deliverable" : "undeliverable";
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      } catch (Exception e) {
        return new ProducerRecord<>(dlq, null, r.key(), r.value(), r.headers());
      }
      byte[] value =
          ("{\"eventId\":" + json(eventId) + ",\"status\":\"" + result + "\"}").getBytes(StandardCharsets.UTF_8);
      return new ProducerRecord<>(result.equals("deliverable") ? valid : invalid, null, r.key(), value);
    }

    private static String json(String s) {
      StringBuilder b = new StringBuilder(s.length() + 2).append('"');
      for (char ch : s.toCharArray()) {
        if (ch == '"' || ch == '\\') b.append('\\').append(ch);
        else if (ch < 0x20) b.append(String.format("\\u%04x", (int) ch));
        else b.append(ch);
      }
      return b.append('"').toString();
    }
  }

  private static String get(Map<String, String> cfg, String name, String fallback) {
    String v = cfg.get(name);
    return v == null || v.isEmpty() ? fallback : v;
  }

  private static String need(Map<String, String> cfg, String name) {
    String v = cfg.get(name);
    if (v == null || v.isEmpty()) throw new IllegalArgumentException(name + " is required");
    return v;
  }
}
