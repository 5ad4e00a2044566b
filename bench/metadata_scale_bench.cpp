// metadata_scale_bench: the controller's metadata image at scale (issue 15,
// item 3). Builds, with the shipped metadata_machine, the image of a cluster
// with N partitions (topics of --per-topic partitions, --rf replicas on
// --brokers brokers), then measures what the controller does with it:
//   - the snapshot: encode_image size, encode and decode time;
//   - a push: every batch of applied commands sends a copy of the whole
//     image to the local broker and to the store actor (push_image);
//   - applying one leader election (change_partition_cmd) to the image;
//   - the store's materialize() of the image into SQLite (meta.db), which
//     the store actor runs on every push.
// A tool, not a test: it prints times next to the machine's own cores.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <cxxopts.hpp>

#include "actors/controller/metadata_machine.hpp"
#include "actors/controller/metadata_snapshot.hpp"
#include "actors/store/metadata_view_store.hpp"
#include "runtime/version_flag.hpp"
#include "storage/meta_store.hpp"

using namespace al;

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  int32_t partitions = 10000;
  int32_t per_topic = 100;
  int32_t brokers = 3;
  int32_t rf = 3;
  int repeat = 5;
  std::string dir = "/tmp/actorlog-metadata-bench";
};

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

/// Runs f `repeat` times; the best time in ms.
template <class F>
double best_ms(int repeat, F&& f) {
  double best = 1e300;
  for (int i = 0; i < repeat; ++i) {
    auto t0 = clock_type::now();
    f();
    best = std::min(best, ms_since(t0));
  }
  return best;
}

std::string hex_id(int n) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%032x", n + 1);
  return buf;
}

int run(const options& o) {
  metadata_machine m;
  int64_t offset = 0;
  for (int32_t b = 1; b <= o.brokers; ++b)
    if (auto st = m.apply(register_broker_cmd{b, "127.0.0.1", uint16_t(9100 + b), 1}, offset++);
        !st) {
      std::cerr << "register broker " << b << ": " << st.to_string() << "\n";
      return 1;
    }
  int32_t topics = (o.partitions + o.per_topic - 1) / o.per_topic;
  std::cerr << "building the image: " << o.partitions << " partitions in " << topics
            << " topic(s), RF " << o.rf << " on " << o.brokers << " brokers\n";
  int32_t left = o.partitions;
  for (int32_t t = 0; t < topics; ++t) {
    create_topic_cmd c;
    c.name = "scale-" + std::to_string(t);
    c.topic_id = hex_id(t);
    int32_t n = std::min(left, o.per_topic);
    left -= n;
    for (int32_t p = 0; p < n; ++p) {
      std::vector<int32_t> replicas;
      for (int32_t r = 0; r < o.rf; ++r)
        replicas.push_back((t * o.per_topic + p + r) % o.brokers + 1);
      c.assignment.push_back(replicas);
    }
    if (auto st = m.apply(c, offset++); !st) {
      std::cerr << "create " << c.name << ": " << st.to_string() << "\n";
      return 1;
    }
  }
  const auto& image = m.image();

  bytes encoded;
  double encode_ms = best_ms(o.repeat, [&] { encoded = encode_image(image); });
  double decode_ms = best_ms(o.repeat, [&] {
    auto back = decode_image(encoded);
    if (!back)
      std::cerr << "decode: " << back.error().to_string() << "\n";
  });
  double copy_ms = best_ms(o.repeat, [&] {
    metadata_image copy = image;
    if (copy.topics.size() != image.topics.size())
      std::cerr << "copy differs\n";
  });

  // One election per partition of the first topic, each applied alone (a
  // broker failure elects new leaders for all of its partitions; the active
  // controller proposes them in batches).
  const int elections = std::min<int32_t>(o.per_topic, o.partitions);
  auto t0 = clock_type::now();
  for (int32_t p = 0; p < elections; ++p) {
    change_partition_cmd c;
    c.topic = "scale-0";
    c.partition = p;
    const auto& part = image.topics.at("scale-0").partitions.at(size_t(p));
    c.leader = part.replicas.back();
    c.isr = part.replicas;
    c.bump_leader_epoch = true;
    if (auto st = m.apply(c, offset++); !st) {
      std::cerr << "election: " << st.to_string() << "\n";
      return 1;
    }
  }
  double apply_us = ms_since(t0) * 1000.0 / elections;
  for (int32_t p = 0; p < elections; ++p) { // each one took effect
    const auto& part = m.image().topics.at("scale-0").partitions.at(size_t(p));
    if (part.leader != part.replicas.back()) {
      std::cerr << "election " << p << " did not apply\n";
      return 1;
    }
  }

  // The broker's push (issue 15, item 3): what changed since the last one.
  // The first is the whole image; after one election, that partition.
  double full_delta_ms = best_ms(1, [&] { (void)m.take_delta(); });
  double delta_us = 1e300;
  size_t delta_partitions = 0;
  for (int i = 0; i < o.repeat; ++i) {
    change_partition_cmd c;
    c.topic = "scale-0";
    c.partition = 0;
    c.leader = m.image().topics.at("scale-0").partitions.at(0).replicas.front();
    c.isr = m.image().topics.at("scale-0").partitions.at(0).replicas;
    c.bump_leader_epoch = true;
    if (auto st = m.apply(c, offset++); !st) {
      std::cerr << "election: " << st.to_string() << "\n";
      return 1;
    }
    auto t = clock_type::now();
    auto d = m.take_delta();
    delta_us = std::min(delta_us, ms_since(t) * 1000.0);
    delta_partitions = 0;
    for (auto& [name, parts] : d.partitions)
      delta_partitions += parts.size();
    for (auto& [name, topic] : d.topics)
      delta_partitions += topic.partitions.size();
  }

  std::filesystem::remove_all(o.dir);
  std::filesystem::create_directories(o.dir);
  auto store = meta_store::open(o.dir + "/meta.db");
  if (!store) {
    std::cerr << "meta.db: " << store.error().to_string() << "\n";
    return 1;
  }
  int64_t view_offset = 1000000;
  double first_materialize_ms = 0;
  {
    auto t = clock_type::now();
    if (auto st = materialize(*store, image, view_offset++, 0); !st) {
      std::cerr << "materialize: " << st.to_string() << "\n";
      return 1;
    }
    first_materialize_ms = ms_since(t);
  }
  double materialize_ms = best_ms(o.repeat, [&] {
    if (auto st = materialize(*store, image, view_offset++, 0); !st)
      std::cerr << "materialize: " << st.to_string() << "\n";
  });
  std::filesystem::remove_all(o.dir);

  std::printf("machine: %u cores\n", std::thread::hardware_concurrency());
  std::printf("image: %d partitions, %d topics, RF %d, %d brokers\n", o.partitions, topics, o.rf,
              o.brokers);
  std::printf("%-44s %12s\n", "what", "value");
  std::printf("%-44s %9.1f KiB\n", "snapshot size (encode_image)", double(encoded.size()) / 1024);
  std::printf("%-44s %9.2f ms\n", "snapshot encode", encode_ms);
  std::printf("%-44s %9.2f ms\n", "snapshot decode", decode_ms);
  std::printf("%-44s %9.2f ms\n", "image copy (the store's push)", copy_ms);
  std::printf("%-44s %9.2f us\n", "apply one leader election", apply_us);
  std::printf("%-44s %9.2f ms\n", "broker push, first (whole image)", full_delta_ms);
  std::printf("%-44s %9.2f us (%zu partition)\n", "broker push after one election (delta)",
              delta_us, delta_partitions);
  std::printf("%-44s %9.2f ms\n", "materialize into SQLite, first", first_materialize_ms);
  std::printf("%-44s %9.2f ms\n", "materialize into SQLite, unchanged image", materialize_ms);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (al::print_version_if_asked(argc, argv, "metadata_scale_bench"))
    return 0;
  options o;
  try {
    cxxopts::Options opts("metadata_scale_bench",
                          "Size and cost of the controller's metadata image with many "
                          "partitions (issue 15, item 3)");
    // clang-format off
    opts.add_options()
      ("partitions", "partitions in all", cxxopts::value<int32_t>()->default_value("10000"))
      ("per-topic", "partitions per topic", cxxopts::value<int32_t>()->default_value("100"))
      ("brokers", "brokers", cxxopts::value<int32_t>()->default_value("3"))
      ("rf", "replication factor", cxxopts::value<int32_t>()->default_value("3"))
      ("repeat", "runs per measurement, the best is printed", cxxopts::value<int>()->default_value("5"))
      ("dir", "scratch folder for meta.db (removed)", cxxopts::value<std::string>()->default_value(o.dir))
      ("version", "print the version and exit")
      ("h,help", "print this help");
    // clang-format on
    auto args = opts.parse(argc, argv);
    if (args.count("help")) {
      std::cout << opts.help() << '\n';
      return 0;
    }
    o.partitions = args["partitions"].as<int32_t>();
    o.per_topic = args["per-topic"].as<int32_t>();
    o.brokers = args["brokers"].as<int32_t>();
    o.rf = args["rf"].as<int32_t>();
    o.repeat = args["repeat"].as<int>();
    o.dir = args["dir"].as<std::string>();
    if (o.partitions < 1 || o.per_topic < 1 || o.brokers < 1 || o.rf < 1 || o.rf > o.brokers ||
        o.repeat < 1)
      throw std::invalid_argument("--partitions, --per-topic, --brokers, --repeat must be >= 1, "
                                  "and --rf between 1 and --brokers");
  } catch (const std::exception& e) {
    std::cerr << "metadata_scale_bench: " << e.what() << " (try --help)\n";
    return 2;
  }
  return run(o);
}
