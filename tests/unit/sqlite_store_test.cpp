// The per-node SQLite store: the connection wrapper, schema migrations and
// every meta.db table. Each test works in its own directory under /tmp.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "storage/meta_schema.hpp"
#include "storage/meta_store.hpp"
#include "storage/sqlite_db.hpp"
#include "storage/sqlite_migrate.hpp"

using namespace al;

namespace {

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string tmpl = "/tmp/actorlog-sqlite-XXXXXX";
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const char* name) const { return (path / name).string(); }
};

void must(const status& st) {
  if (!st)
    FAIL(st.to_string());
}

template <class T>
T must(result<T> r) {
  if (!r)
    FAIL(r.error().to_string());
  return std::move(*r);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

topic_uuid make_uuid(std::uint8_t seed) {
  topic_uuid id{};
  for (std::size_t i = 0; i < id.size(); ++i)
    id[i] = static_cast<std::uint8_t>(seed + i);
  return id;
}

topic_record make_topic(const std::string& name, std::int32_t partitions, std::uint8_t seed = 1) {
  return topic_record{name, make_uuid(seed), partitions, 3, 1700000000000};
}

partition_record make_partition(const std::string& topic, std::int32_t partition) {
  return partition_record{topic, partition, {1, 2, 3}, 1, 4, {1, 2}, 7};
}

producer_batch make_batch(std::int64_t pid, std::int16_t epoch, std::int32_t seq,
                          std::int64_t offset) {
  return producer_batch{"orders", 0, pid, epoch, seq, seq + 9, offset, 1000 + offset};
}

} // namespace

// --- connection and schema ---------------------------------------------------

TEST_CASE("a new store is migrated to the current schema, in WAL mode", "[sqlite]") {
  temp_dir dir;
  auto store = must(meta_store::open(dir.file("meta.db")));
  CHECK(must(sqlite_schema_version(store.db())) == meta_schema_version());
  CHECK(meta_schema_version() >= 1);
  CHECK(must(store.db().journal_mode()) == "wal");
  CHECK(must(store.db().query_int("PRAGMA foreign_keys")) == 1);
  CHECK(must(store.db().query_int("PRAGMA synchronous")) == 2); // FULL
  CHECK(must(store.applied_position()) == metadata_log_position{-1, -1});
  CHECK(must(store.next_producer_id()) == 0);
}

TEST_CASE("synchronous=NORMAL is configurable", "[sqlite]") {
  temp_dir dir;
  sqlite_options opts;
  opts.synchronous = sqlite_synchronous::normal;
  auto store = must(meta_store::open(dir.file("meta.db"), opts));
  CHECK(must(store.db().query_int("PRAGMA synchronous")) == 1);
}

TEST_CASE("cached statements are reset and unbound between uses", "[sqlite]") {
  temp_dir dir;
  auto db = must(sqlite_db::open(dir.file("t.db")));
  must(db->exec("CREATE TABLE t (a INTEGER, b TEXT)"));
  for (int i = 0; i < 3; ++i) {
    auto stmt = must(db->prepare("INSERT INTO t (a, b) VALUES (?1, ?2)"));
    stmt.bind(1, std::int64_t{i});
    if (i != 1)
      stmt.bind(2, "x");
    must(stmt.run());
  }
  // Row 1 got no binding for b: the earlier "x" was cleared, so b is NULL.
  CHECK(must(db->query_int("SELECT count(*) FROM t WHERE b IS NULL")) == 1);
  CHECK(must(db->query_int("SELECT sum(a) FROM t")) == 3);
  auto bad = must(db->prepare("SELECT * FROM t WHERE a = ?1"));
  bad.bind(5, std::int64_t{1}); // no such parameter: reported by step()
  auto row = bad.step();
  REQUIRE_FALSE(row);
  CHECK(contains(row.error().message(), "binding parameter 5"));
}

TEST_CASE("a transaction guard rolls back unless committed", "[sqlite]") {
  temp_dir dir;
  auto db = must(sqlite_db::open(dir.file("t.db")));
  must(db->exec("CREATE TABLE t (a INTEGER)"));
  {
    auto txn = must(sqlite_transaction::begin(*db));
    must(db->exec("INSERT INTO t VALUES (1)"));
    CHECK(db->in_transaction());
  }
  CHECK_FALSE(db->in_transaction());
  CHECK(must(db->query_int("SELECT count(*) FROM t")) == 0);
  {
    auto txn = must(sqlite_transaction::begin(*db));
    must(db->exec("INSERT INTO t VALUES (2)"));
    must(txn.commit());
  }
  CHECK(must(db->query_int("SELECT count(*) FROM t")) == 1);
}

TEST_CASE("a failing migration leaves the database at the previous version", "[sqlite]") {
  temp_dir dir;
  auto db = must(sqlite_db::open(dir.file("m.db")));
  std::vector<sqlite_migration> list = {
    {1, "create a", "CREATE TABLE a (x INTEGER)"},
    {2, "create b, then fail", "CREATE TABLE b (x INTEGER); INSERT INTO no_such_table VALUES (1)"},
  };
  auto st = sqlite_migrate(*db, list);
  REQUIRE_FALSE(st);
  CHECK(contains(st.message(), "migration 2 (create b, then fail)"));
  CHECK(contains(st.message(), "no such table: no_such_table"));
  CHECK(must(sqlite_schema_version(*db)) == 1);
  CHECK(must(db->query_int("SELECT count(*) FROM sqlite_master WHERE name = 'b'")) == 0);
  list[1].sql = "CREATE TABLE b (x INTEGER)";
  must(sqlite_migrate(*db, list));
  CHECK(must(sqlite_schema_version(*db)) == 2);
  must(sqlite_migrate(*db, list)); // up to date: nothing to do
  CHECK(must(sqlite_schema_version(*db)) == 2);
}

// --- open errors -------------------------------------------------------------

TEST_CASE("a file that is not a database fails to open, naming the file", "[sqlite]") {
  temp_dir dir;
  auto path = dir.file("meta.db");
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 256; ++i)
      out << "this is not a database, just garbage ";
  }
  auto store = meta_store::open(path);
  REQUIRE_FALSE(store);
  CHECK(store.error().code() == errc::kafka_storage_error);
  CHECK(contains(store.error().message(), path));
  CHECK(contains(store.error().message(), "file is not a database"));
}

TEST_CASE("a missing directory fails to open, naming the file", "[sqlite]") {
  temp_dir dir;
  auto path = dir.file("no-such-dir/meta.db");
  auto store = meta_store::open(path);
  REQUIRE_FALSE(store);
  CHECK(contains(store.error().message(), path));
  CHECK(contains(store.error().message(), "unable to open database file"));
}

TEST_CASE("a schema newer than this binary fails, naming file and both versions", "[sqlite]") {
  temp_dir dir;
  auto path = dir.file("meta.db");
  {
    auto db = must(sqlite_db::open(path));
    must(db->exec("PRAGMA user_version = 99"));
  }
  auto store = meta_store::open(path);
  REQUIRE_FALSE(store);
  const auto& msg = store.error().message();
  CHECK(contains(msg, path));
  CHECK(contains(msg, "schema version 99"));
  CHECK(contains(msg, "version " + std::to_string(meta_schema_version()) + " known"));
}

TEST_CASE("a locked database gives a clear error after the busy timeout", "[sqlite]") {
  temp_dir dir;
  auto path = dir.file("meta.db");
  sqlite_options quick;
  quick.busy_timeout_ms = 50;
  auto store = must(meta_store::open(path, quick));
  must(store.set_node_meta(node_meta_key::node_id, "1"));

  auto other = must(sqlite_db::open(path));
  must(other->exec("BEGIN EXCLUSIVE"));
  must(other->exec("INSERT INTO node_meta (name, value) VALUES ('held', 'x')"));

  auto started = std::chrono::steady_clock::now();
  auto second = meta_store::open(path, quick);
  REQUIRE_FALSE(second);
  CHECK(contains(second.error().message(), path));
  CHECK(contains(second.error().message(), "database is locked"));
  CHECK(contains(second.error().message(), "busy timeout of 50 ms"));

  // An open store: reads still work (WAL), writes fail rather than hang.
  CHECK(must(store.get_node_meta(node_meta_key::node_id)) == "1");
  auto st = store.set_node_meta(node_meta_key::cluster_id, "c");
  REQUIRE_FALSE(st);
  CHECK(contains(st.message(), "database is locked"));
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));

  must(other->exec("ROLLBACK"));
  must(store.set_node_meta(node_meta_key::cluster_id, "c"));
  CHECK(must(store.get_node_meta(node_meta_key::cluster_id)) == "c");
}

// --- tables ------------------------------------------------------------------

TEST_CASE("topics: create, read, grow, delete", "[sqlite][topics]") {
  temp_dir dir;
  auto store = must(meta_store::open(dir.file("meta.db")));
  auto orders = make_topic("orders", 3, 1);
  must(store.create_topic(orders, {{"retention.ms", "1000"}, {"cleanup.policy", "delete"}}));
  must(store.create_topic(make_topic("audit", 1, 2)));
  CHECK(must(store.get_topic("orders")) == orders);
  CHECK(store.create_topic(make_topic("orders", 1, 3)).code() == errc::topic_already_exists);
  CHECK(store.get_topic("nope").error().code() == errc::unknown_topic_or_partition);

  auto all = must(store.list_topics());
  REQUIRE(all.size() == 2);
  CHECK(all[0].name == "audit");
  CHECK(all[1] == orders);

  must(store.set_partition_count("orders", 5));
  CHECK(must(store.get_topic("orders")).partition_count == 5);
  CHECK(store.set_partition_count("orders", 4).code() == errc::invalid_partitions);
  CHECK(store.delete_topic("nope").code() == errc::unknown_topic_or_partition);
  must(store.delete_topic("audit"));
  CHECK(must(store.list_topics()).size() == 1);
}

TEST_CASE("topic configs: set, remove, replace", "[sqlite][topics]") {
  temp_dir dir;
  auto store = must(meta_store::open(dir.file("meta.db")));
  must(store.create_topic(make_topic("orders", 1), {{"retention.ms", "1000"}}));
  must(store.alter_topic_configs("orders", {{"retention.ms", "2000"}, {"segment.bytes", "1024"}}));
  CHECK(must(store.get_topic_configs("orders"))
        == topic_configs{{"retention.ms", "2000"}, {"segment.bytes", "1024"}});
  must(store.alter_topic_configs("orders", {}, {"retention.ms"}));
  CHECK(must(store.get_topic_configs("orders")) == topic_configs{{"segment.bytes", "1024"}});
  must(store.replace_topic_configs("orders", {{"cleanup.policy", "compact"}}));
  CHECK(must(store.get_topic_configs("orders")) == topic_configs{{"cleanup.policy", "compact"}});
  CHECK(store.alter_topic_configs("nope", {{"a", "b"}}).code()
        == errc::unknown_topic_or_partition);
  CHECK(store.get_topic_configs("nope").error().code() == errc::unknown_topic_or_partition);
}

TEST_CASE("partitions: upsert and read back replicas, leader, epochs, ISR", "[sqlite][partitions]") {
  temp_dir dir;
  auto store = must(meta_store::open(dir.file("meta.db")));
  must(store.create_topic(make_topic("orders", 3)));
  for (std::int32_t p : {2, 0, 1})
    must(store.upsert_partition(make_partition("orders", p)));
  auto changed = make_partition("orders", 1);
  changed.leader = 3;
  changed.leader_epoch = 5;
  changed.isr = {3};
  changed.partition_epoch = 8;
  must(store.upsert_partition(changed));

  auto parts = must(store.get_partitions("orders"));
  REQUIRE(parts.size() == 3);
  CHECK(parts[0] == make_partition("orders", 0));
  CHECK(parts[1] == changed);
  CHECK(parts[2] == make_partition("orders", 2));
  CHECK(must(store.get_partition("orders", 1)) == changed);
  CHECK(must(store.list_partitions()).size() == 3);

  auto empty_isr = make_partition("orders", 0);
  empty_isr.isr = {};
  empty_isr.leader = -1;
  must(store.upsert_partition(empty_isr));
  CHECK(must(store.get_partition("orders", 0)) == empty_isr);

  CHECK(store.get_partition("orders", 9).error().code() == errc::unknown_topic_or_partition);
  CHECK(store.upsert_partition(make_partition("orders", 3)).code()
        == errc::unknown_topic_or_partition); // beyond the partition count
  CHECK(store.upsert_partition(make_partition("nope", 0)).code()
        == errc::unknown_topic_or_partition);
  CHECK(store.get_partitions("nope").error().code() == errc::unknown_topic_or_partition);
}

TEST_CASE("a malformed replica list is reported, not misread", "[sqlite][partitions]") {
  temp_dir dir;
  auto store = must(meta_store::open(dir.file("meta.db")));
  must(store.create_topic(make_topic("orders", 1)));
  must(store.upsert_partition(make_partition("orders", 0)));
  must(store.db().exec("UPDATE partitions SET replicas = '[1,,2]'"));
  auto p = store.get_partition("orders", 0);
  REQUIRE_FALSE(p);
  CHECK(contains(p.error().message(), "malformed replicas list '[1,,2]'"));
  must(store.db().exec("UPDATE partitions SET replicas = '[ 1, 2 ]'"));
  CHECK(must(store.get_partition("orders", 0)).replicas == std::vector<std::int32_t>{1, 2});
}

TEST_CASE("consumer offsets: commit, fetch, list and delete groups", "[sqlite][offsets]") {
  temp_dir dir;
  auto store = must(meta_store::open(dir.file("meta.db")));
  must(store.commit_offsets("risk", 3,
                            {{"orders", 0, 10, 2, "m0", 100}, {"orders", 1, 20, -1, "", 100},
                             {"audit", 0, 5, 1, "a", 100}}));
  must(store.commit_offsets("reporting", 1, {{"orders", 0, 7, 2, "", 50}}));
  must(store.commit_offsets("risk", 4, {{"orders", 1, 25, 3, "m1", 200}}));

  auto all = must(store.fetch_offsets("risk"));
  REQUIRE(all.size() == 3);
  CHECK(all[0].topic == "audit");
  CHECK(all[1].topic == "orders");
  CHECK(all[1].partition == 0);
  CHECK(all[1].offset == 10);
  CHECK(all[1].leader_epoch == 2);
  CHECK(all[1].metadata == "m0");
  CHECK(all[1].generation_id == 3);
  CHECK(all[1].commit_time_ms == 100);
  CHECK(all[2].offset == 25); // the later commit replaced the earlier one
  CHECK(all[2].generation_id == 4);
  CHECK(all[2].metadata == "m1");
  CHECK(all[2].group == "risk");

  auto orders = must(store.fetch_offsets("risk", std::string("orders")));
  REQUIRE(orders.size() == 2);
  CHECK(orders[0].partition == 0);
  CHECK(orders[1].partition == 1);
  CHECK(must(store.fetch_offsets("nobody")).empty());

  CHECK(must(store.list_groups()) == std::vector<std::string>{"reporting", "risk"});
  CHECK(must(store.delete_group_offsets("risk")) == 3);
  CHECK(must(store.delete_group_offsets("risk")) == 0);
  CHECK(must(store.list_groups()) == std::vector<std::string>{"reporting"});
}

TEST_CASE("producer state keeps the last 5 batches per producer", "[sqlite][producers]") {
  temp_dir dir;
  auto store = must(meta_store::open(dir.file("meta.db")));
  must(store.create_topic(make_topic("orders", 2)));
  for (int i = 0; i < 7; ++i)
    must(store.append_producer_batch(make_batch(42, 0, i * 10, 100 + i)));
  must(store.append_producer_batch(make_batch(7, 1, 0, 200)));
  auto other_partition = make_batch(42, 0, 0, 5);
  other_partition.partition = 1;
  must(store.append_producer_batch(other_partition));

  auto kept = must(store.load_producer_batches("orders", 0));
  REQUIRE(kept.size() == 6);
  CHECK(kept[0] == make_batch(7, 1, 0, 200));
  for (int i = 0; i < 5; ++i)
    CHECK(kept[1 + i] == make_batch(42, 0, (i + 2) * 10, 102 + i)); // the newest five
  CHECK(must(store.load_producer_batches("orders", 1)) == std::vector{other_partition});

  // A new epoch starts over; an older one is refused.
  must(store.append_producer_batch(make_batch(42, 1, 0, 300)));
  auto st = store.append_producer_batch(make_batch(42, 0, 70, 301));
  CHECK(st.code() == errc::invalid_producer_epoch);
  kept = must(store.load_producer_batches("orders", 0));
  REQUIRE(kept.size() == 2);
  CHECK(kept[1] == make_batch(42, 1, 0, 300));

  must(store.truncate_producer_batches("orders", 0, 250));
  CHECK(must(store.load_producer_batches("orders", 0)) == std::vector{make_batch(7, 1, 0, 200)});
  must(store.delete_producer("orders", 0, 7));
  CHECK(must(store.load_producer_batches("orders", 0)).empty());
  CHECK(store.append_producer_batch(producer_batch{"nope", 0, 1, 0, 0, 0, 0, 0}).code()
        == errc::unknown_topic_or_partition);
}

TEST_CASE("producer ids are allocated in blocks that never overlap", "[sqlite][producers]") {
  temp_dir dir;
  auto path = dir.file("meta.db");
  {
    auto store = must(meta_store::open(path));
    CHECK(must(store.allocate_producer_ids(1000)) == 0);
    CHECK(must(store.allocate_producer_ids(1)) == 1000);
  }
  auto store = must(meta_store::open(path));
  CHECK(must(store.next_producer_id()) == 1001);
  CHECK(must(store.allocate_producer_ids(10)) == 1001);
}

TEST_CASE("node_meta holds cluster id and node id", "[sqlite]") {
  temp_dir dir;
  auto store = must(meta_store::open(dir.file("meta.db")));
  CHECK(must(store.get_node_meta(node_meta_key::cluster_id)) == std::nullopt);
  must(store.set_node_meta(node_meta_key::cluster_id, "q1Sh-9_ISia_zwGINzRvyQ"));
  must(store.set_node_meta(node_meta_key::node_id, "1"));
  must(store.set_node_meta(node_meta_key::node_id, "2"));
  CHECK(must(store.get_node_meta(node_meta_key::cluster_id)) == "q1Sh-9_ISia_zwGINzRvyQ");
  CHECK(must(store.get_node_meta(node_meta_key::node_id)) == "2");
}

TEST_CASE("deleting a topic removes its configs, partitions and producer state", "[sqlite]") {
  temp_dir dir;
  auto store = must(meta_store::open(dir.file("meta.db")));
  must(store.create_topic(make_topic("orders", 2, 1), {{"retention.ms", "1"}}));
  must(store.create_topic(make_topic("audit", 1, 2), {{"retention.ms", "2"}}));
  for (const char* t : {"orders", "audit"})
    must(store.upsert_partition(make_partition(t, 0)));
  must(store.append_producer_batch(make_batch(1, 0, 0, 0)));
  must(store.commit_offsets("risk", 1, {{"orders", 0, 5, -1, "", 1}}));

  must(store.delete_topic("orders"));
  auto& db = store.db();
  CHECK(must(db.query_int("SELECT count(*) FROM topic_configs WHERE topic = 'orders'")) == 0);
  CHECK(must(db.query_int("SELECT count(*) FROM partitions WHERE topic = 'orders'")) == 0);
  CHECK(must(db.query_int("SELECT count(*) FROM producer_batches")) == 0);
  CHECK(must(store.get_topic_configs("audit")) == topic_configs{{"retention.ms", "2"}});
  CHECK(must(store.get_partitions("audit")).size() == 1);
  // Committed offsets belong to the group coordinator, which drops them itself.
  CHECK(must(store.fetch_offsets("risk")).size() == 1);
}

TEST_CASE("reopening the store keeps every table's data", "[sqlite]") {
  temp_dir dir;
  auto path = dir.file("meta.db");
  {
    auto store = must(meta_store::open(path));
    must(store.create_topic(make_topic("orders", 1), {{"retention.ms", "5"}}));
    must(store.upsert_partition(make_partition("orders", 0)));
    must(store.commit_offsets("risk", 2, {{"orders", 0, 9, 1, "x", 3}}));
    must(store.append_producer_batch(make_batch(1, 0, 0, 0)));
    must(store.set_node_meta(node_meta_key::node_id, "3"));
    CHECK(must(store.apply({4, 1}, [] { return status::ok(); })));
  }
  auto store = must(meta_store::open(path));
  CHECK(must(store.get_topic("orders")) == make_topic("orders", 1));
  CHECK(must(store.get_topic_configs("orders")) == topic_configs{{"retention.ms", "5"}});
  CHECK(must(store.get_partition("orders", 0)) == make_partition("orders", 0));
  CHECK(must(store.fetch_offsets("risk")).at(0).offset == 9);
  CHECK(must(store.load_producer_batches("orders", 0)) == std::vector{make_batch(1, 0, 0, 0)});
  CHECK(must(store.get_node_meta(node_meta_key::node_id)) == "3");
  CHECK(must(store.applied_position()) == metadata_log_position{4, 1});
  CHECK(must(sqlite_schema_version(store.db())) == meta_schema_version());
}

// --- transactions ------------------------------------------------------------

TEST_CASE("a batch of offset commits that fails mid-way writes nothing", "[sqlite][txn]") {
  temp_dir dir;
  auto store = must(meta_store::open(dir.file("meta.db")));
  must(store.commit_offsets("risk", 1, {{"orders", 0, 1, -1, "", 1}}));
  // The second commit violates CHECK (partition_index >= 0).
  auto st = store.commit_offsets(
    "risk", 2, {{"orders", 0, 50, -1, "", 2}, {"orders", -1, 60, -1, "", 2},
                {"orders", 2, 70, -1, "", 2}});
  REQUIRE_FALSE(st);
  CHECK(st.code() == errc::kafka_storage_error);
  CHECK(contains(st.message(), "orders--1"));
  auto offsets = must(store.fetch_offsets("risk"));
  REQUIRE(offsets.size() == 1);
  CHECK(offsets[0].offset == 1);
  CHECK_FALSE(store.db().in_transaction());
}

TEST_CASE("write() rolls back everything when its body fails", "[sqlite][txn]") {
  temp_dir dir;
  auto store = must(meta_store::open(dir.file("meta.db")));
  auto st = store.write([&]() -> status {
    must(store.create_topic(make_topic("orders", 1)));
    must(store.upsert_partition(make_partition("orders", 0)));
    return {errc::unknown_server_error, "injected failure"};
  });
  CHECK(st.message() == "injected failure");
  CHECK(must(store.list_topics()).empty());
  CHECK(must(store.list_partitions()).empty());

  // A failed call inside dooms the transaction even if the body returns ok.
  st = store.write([&]() -> status {
    must(store.create_topic(make_topic("orders", 1)));
    (void) store.create_topic(make_topic("orders", 1)); // TOPIC_ALREADY_EXISTS, ignored
    return status::ok();
  });
  CHECK(st.code() == errc::topic_already_exists);
  CHECK(must(store.list_topics()).empty());

  must(store.write([&]() -> status {
    must(store.create_topic(make_topic("orders", 1)));
    return store.upsert_partition(make_partition("orders", 0));
  }));
  CHECK(must(store.list_partitions()).size() == 1);
}

TEST_CASE("apply() records the metadata log position with the change", "[sqlite][txn]") {
  temp_dir dir;
  auto store = must(meta_store::open(dir.file("meta.db")));
  int runs = 0;
  auto create = [&]() -> status {
    ++runs;
    return store.create_topic(make_topic("orders", 1));
  };
  CHECK(must(store.apply({10, 2}, create)) == true);
  CHECK(must(store.apply({10, 2}, create)) == false); // replay after a crash: skipped
  CHECK(must(store.apply({9, 2}, create)) == false);
  CHECK(runs == 1);
  CHECK(must(store.applied_position()) == metadata_log_position{10, 2});

  auto failed = store.apply({11, 2}, [&]() -> status {
    must(store.set_partition_count("orders", 4));
    return {errc::invalid_partitions, "injected failure"};
  });
  REQUIRE_FALSE(failed);
  CHECK(must(store.get_topic("orders")).partition_count == 1);
  CHECK(must(store.applied_position()) == metadata_log_position{10, 2});

  auto older_term = store.apply({12, 1}, [] { return status::ok(); });
  REQUIRE_FALSE(older_term);
  CHECK(older_term.error().code() == errc::invalid_request);
  CHECK(must(store.apply({12, 3}, [] { return status::ok(); })) == true);
  CHECK(must(store.applied_position()) == metadata_log_position{12, 3});
}
