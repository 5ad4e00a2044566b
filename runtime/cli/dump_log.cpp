#include "runtime/cli/dump_log.hpp"

#include <cctype>
#include <fstream>
#include <istream>
#include <ostream>

#include "storage/batch_header.hpp"
#include "storage/record_batch.hpp"

namespace al {

namespace {

/// Kafka prints keys and values as text; control bytes are escaped so that
/// one record stays on one line.
void print_text(std::ostream& out, byte_view b) {
  static const char hex[] = "0123456789abcdef";
  for (uint8_t c : b) {
    if (c < 0x20 || c == 0x7f)
      out << "\\x" << hex[c >> 4] << hex[c & 0xF];
    else
      out << char(c);
  }
}

void print_opt_text(std::ostream& out, const std::optional<byte_view>& b) {
  if (b)
    print_text(out, *b);
  else
    out << "null";
}

int64_t size_or_null(const std::optional<byte_view>& b) { return b ? int64_t(b->size) : -1; }

const char* timestamp_type(const batch_header& h) {
  return (h.attributes & batch_attr::log_append_time) ? "LogAppendTime" : "CreateTime";
}

void print_batch_line(std::ostream& out, const batch_header& h, uint64_t position, bool valid) {
  out << std::boolalpha << "baseOffset: " << h.base_offset << " lastOffset: " << h.last_offset()
      << " count: " << h.records_count << " baseSequence: " << h.base_sequence
      << " lastSequence: " << h.last_sequence() << " producerId: " << h.producer_id
      << " producerEpoch: " << h.producer_epoch
      << " partitionLeaderEpoch: " << h.partition_leader_epoch
      << " isTransactional: " << h.is_transactional() << " isControl: " << h.is_control()
      << " position: " << position << ' ' << timestamp_type(h) << ": " << h.max_timestamp
      << " size: " << h.size_in_bytes() << " magic: " << int(h.magic)
      << " compresscodec: " << to_string(h.codec()) << " crc: " << h.crc
      << " isvalid: " << valid << '\n';
}

void print_record_line(std::ostream& out, const decoded_batch& b, const record_view& r) {
  const auto& h = b.header;
  out << "| offset: " << r.offset << ' ' << timestamp_type(h) << ": " << r.timestamp
      << " keySize: " << size_or_null(r.key) << " valueSize: " << size_or_null(r.value)
      << " sequence: " << record_sequence(h, int32_t(r.offset - h.base_offset)) << " headerKeys: [";
  for (size_t i = 0; i < r.headers.size(); ++i)
    out << (i ? "," : "") << r.headers[i].key;
  out << ']';
  if (!h.is_control()) { // control records hold markers, not user data
    out << " key: ";
    print_opt_text(out, r.key);
    out << " payload: ";
    print_opt_text(out, r.value);
  } else if (r.key && r.key->size >= 4) { // Kafka's EndTransactionMarker, as Kafka prints it
    auto type = load_be<int16_t>(r.key->data + 2);
    out << " endTxnMarker: " << (type == 0 ? "ABORT" : type == 1 ? "COMMIT" : "UNKNOWN");
    if (r.value && r.value->size >= 6)
      out << " coordinatorEpoch: " << load_be<int32_t>(r.value->data + 2);
  }
  out << '\n';
}

/// "Log starting offset" for segment names like 00000000000000000100.log.
void print_file_header(std::ostream& out, const std::string& name) {
  out << "Dumping " << name << '\n';
  auto slash = name.find_last_of('/');
  std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
  if (base.size() == 24 && base.compare(20, 4, ".log") == 0) {
    bool digits = true;
    for (size_t i = 0; i < 20; ++i)
      digits = digits && std::isdigit(static_cast<unsigned char>(base[i]));
    if (digits)
      out << "Log starting offset: " << std::stoll(base.substr(0, 20)) << '\n';
  }
}

/// Bytes left in `in` from its current position, or -1 if it cannot seek.
int64_t remaining(std::istream& in) {
  auto here = in.tellg();
  if (here < 0 || !in.seekg(0, std::ios::end))
    return -1;
  auto end = in.tellg();
  in.seekg(here);
  return int64_t(end - here);
}

} // namespace

bool dump_log(std::istream& in, const std::string& name, const dump_log_options& opts,
              std::ostream& out, std::ostream& err) {
  namespace L = batch_layout;
  print_file_header(out, name);
  int64_t size = remaining(in);
  if (size < 0) {
    err << name << ": cannot determine the file size\n";
    return false;
  }
  bool sound = true;
  bytes buf;
  uint64_t position = 0;
  auto report = [&]() -> std::ostream& {
    sound = false;
    return err << name << " position " << position << ": ";
  };
  while (int64_t(position) < size) {
    uint64_t left = uint64_t(size) - position;
    if (left < L::header_size) {
      report() << left << " trailing bytes, fewer than a 61-byte batch header (truncated)\n";
      break;
    }
    buf.resize(L::header_size);
    if (!in.read(reinterpret_cast<char*>(buf.data()), std::streamsize(L::header_size))) {
      report() << "read error\n";
      break;
    }
    auto h = read_batch_header(buf.data());
    if (h.magic != current_magic) {
      report() << "magic " << int(h.magic) << ", expected 2; batchLength "
                  << h.batch_length << " cannot be trusted, stopping\n";
      break;
    }
    if (h.batch_length < int32_t(L::header_size - L::log_overhead) || h.size_in_bytes() > left) {
      report() << "batchLength " << h.batch_length << " does not fit (" << left
                  << " bytes left in the file); truncated or corrupt, stopping\n";
      break;
    }
    buf.resize(h.size_in_bytes());
    if (!in.read(reinterpret_cast<char*>(buf.data() + L::header_size),
                 std::streamsize(buf.size() - L::header_size))) {
      report() << "read error\n";
      break;
    }
    uint32_t crc = compute_batch_crc(byte_view{buf});
    bool valid = crc == h.crc;
    print_batch_line(out, h, position, valid);
    std::string where = name + " position " + std::to_string(position);
    if (!valid) {
      report() << "CRC mismatch (stored " << h.crc << ", computed " << crc
                  << "); records not shown\n";
    } else {
      decode_options dopts;
      dopts.verify_crc = false; // checked above
      auto decoded = decode_batch(byte_view{buf}, dopts, where);
      if (!decoded) {
        sound = false;
        err << decoded.error().to_string() << '\n';
      } else if (opts.print_data_log) {
        for (const auto& r : decoded->records)
          print_record_line(out, *decoded, r);
      }
    }
    position += h.size_in_bytes();
  }
  return sound;
}

int dump_log_files(const std::vector<std::string>& files, const dump_log_options& opts,
                   std::ostream& out, std::ostream& err) {
  int status = 0;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      err << f << ": cannot open\n";
      status = 1;
      continue;
    }
    if (!dump_log(in, f, opts, out, err))
      status = 1;
  }
  return status;
}

} // namespace al
