#include "storage/compression.hpp"

#include <climits>
#include <memory>

#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

#include "storage/output_window.hpp"
#include "storage/snappy_codec.hpp"

namespace al {

namespace {

status corrupt(const std::string& where, compression codec, const std::string& what) {
  return {errc::corrupt_message, where + ": " + to_string(codec) + " records " + what};
}

// Not corruption: the records may be fine, there are just too many bytes of
// them (a compression bomb, or a bound below the batch).
status too_big(const std::string& where, compression codec, size_t limit) {
  return {errc::message_too_large, where + ": " + to_string(codec) +
                                     " records decompress to more than " +
                                     std::to_string(limit) + " bytes (the limit)"};
}

// --- gzip ------------------------------------------------------------------

// windowBits 15 + 16 selects zlib's gzip wrapper (RFC 1952) on both sides.
constexpr int gzip_window_bits = 15 + 16;

status gzip_compress(byte_view in, bytes& out, int level) {
  z_stream zs{};
  if (deflateInit2(&zs, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, gzip_window_bits, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    return {errc::invalid_config, "gzip: bad compression level " + std::to_string(level)};
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, deflateEnd);
  AL_ASSERT(in.size < UINT_MAX, in.size);
  size_t start = out.size();
  out.resize(start + deflateBound(&zs, uLong(in.size)));
  zs.next_in = const_cast<Bytef*>(in.data);
  zs.avail_in = uInt(in.size);
  zs.next_out = out.data() + start;
  zs.avail_out = uInt(out.size() - start);
  int rc = deflate(&zs, Z_FINISH);
  AL_ASSERT(rc == Z_STREAM_END, rc); // deflateBound guarantees the room
  out.resize(start + zs.total_out);
  return status::ok();
}

status gzip_decompress(byte_view in, bytes& out, size_t limit, const std::string& where) {
  constexpr auto codec = compression::gzip;
  z_stream zs{};
  if (inflateInit2(&zs, gzip_window_bits) != Z_OK)
    return corrupt(where, codec, "could not start zlib");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  if (in.size >= UINT_MAX)
    return corrupt(where, codec, "are too large");
  zs.next_in = const_cast<Bytef*>(in.data);
  zs.avail_in = uInt(in.size);
  output_window w(out, limit, in.size * 4);
  for (;;) {
    if (w.room() == 0 && !w.grow())
      return too_big(where, codec, limit);
    size_t room = std::min<size_t>(w.room(), UINT_MAX);
    zs.next_out = w.next();
    zs.avail_out = uInt(room);
    int rc = inflate(&zs, Z_NO_FLUSH);
    w.commit(room - zs.avail_out);
    if (w.exceeded())
      return too_big(where, codec, limit);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0)
        break;
      // Java's GZIPInputStream reads concatenated members; so do we.
      if (zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
        inflateReset(&zs);
        continue;
      }
      return corrupt(where, codec,
                     "have " + std::to_string(zs.avail_in) + " trailing bytes after the stream");
    }
    if (rc == Z_BUF_ERROR && zs.avail_out == 0)
      continue; // needs more room
    if (rc == Z_BUF_ERROR || (rc == Z_OK && zs.avail_in == 0 && zs.avail_out > 0))
      return corrupt(where, codec, "are truncated (stream ends early)");
    if (rc != Z_OK)
      return corrupt(where, codec,
                     std::string("are corrupt (zlib: ") + (zs.msg ? zs.msg : "error") + ")");
  }
  w.finish();
  return status::ok();
}

// --- lz4 -------------------------------------------------------------------

status lz4_compress(byte_view in, bytes& out, int level) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
  prefs.compressionLevel = level;
  size_t start = out.size();
  out.resize(start + LZ4F_compressFrameBound(in.size, &prefs));
  size_t n = LZ4F_compressFrame(out.data() + start, out.size() - start, in.data, in.size, &prefs);
  if (LZ4F_isError(n)) {
    out.resize(start);
    return {errc::unknown_server_error, std::string("lz4: ") + LZ4F_getErrorName(n)};
  }
  out.resize(start + n);
  return status::ok();
}

status lz4_decompress(byte_view in, bytes& out, size_t limit, const std::string& where) {
  constexpr auto codec = compression::lz4;
  LZ4F_dctx* raw_ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&raw_ctx, LZ4F_VERSION)))
    return corrupt(where, codec, "could not start lz4");
  std::unique_ptr<LZ4F_dctx, LZ4F_errorCode_t (*)(LZ4F_dctx*)> ctx(
    raw_ctx, LZ4F_freeDecompressionContext);
  const uint8_t* src = in.data;
  size_t left = in.size;
  size_t hint = 1; // LZ4F_decompress returns 0 once a frame is complete
  output_window w(out, limit, in.size * 4);
  for (;;) {
    if (w.room() == 0 && !w.grow())
      return too_big(where, codec, limit);
    size_t dst_size = w.room();
    size_t src_size = left;
    hint = LZ4F_decompress(ctx.get(), w.next(), &dst_size, src, &src_size, nullptr);
    if (LZ4F_isError(hint))
      return corrupt(where, codec,
                     std::string("are corrupt (lz4: ") + LZ4F_getErrorName(hint) + ")");
    w.commit(dst_size);
    if (w.exceeded())
      return too_big(where, codec, limit);
    src += src_size;
    left -= src_size;
    if (left == 0 && hint == 0)
      break; // every frame complete; a new frame may follow a finished one
    if (left == 0 && w.room() > 0)
      return corrupt(where, codec, "are truncated (lz4 frame ends early)");
    if (src_size == 0 && dst_size == 0 && w.room() > 0)
      return corrupt(where, codec, "are corrupt (lz4 decoder made no progress)");
  }
  w.finish();
  return status::ok();
}

// --- zstd ------------------------------------------------------------------

status zstd_compress(byte_view in, bytes& out, int level) {
  size_t start = out.size();
  out.resize(start + ZSTD_compressBound(in.size));
  size_t n = ZSTD_compress(out.data() + start, out.size() - start, in.data, in.size,
                           level ? level : ZSTD_CLEVEL_DEFAULT);
  if (ZSTD_isError(n)) {
    out.resize(start);
    return {errc::unknown_server_error, std::string("zstd: ") + ZSTD_getErrorName(n)};
  }
  out.resize(start + n);
  return status::ok();
}

status zstd_decompress(byte_view in, bytes& out, size_t limit, const std::string& where) {
  constexpr auto codec = compression::zstd;
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!ctx)
    return corrupt(where, codec, "could not start zstd");
  ZSTD_inBuffer src{in.data, in.size, 0};
  output_window w(out, limit, in.size * 4);
  for (;;) {
    if (w.room() == 0 && !w.grow())
      return too_big(where, codec, limit);
    ZSTD_outBuffer dst{w.next(), w.room(), 0};
    size_t in_before = src.pos;
    size_t rc = ZSTD_decompressStream(ctx.get(), &dst, &src);
    if (ZSTD_isError(rc))
      return corrupt(where, codec,
                     std::string("are corrupt (zstd: ") + ZSTD_getErrorName(rc) + ")");
    w.commit(dst.pos);
    if (w.exceeded())
      return too_big(where, codec, limit);
    if (src.pos == src.size && rc == 0)
      break; // all frames complete
    if (src.pos == src.size && dst.pos < dst.size)
      return corrupt(where, codec, "are truncated (zstd frame ends early)");
    if (dst.pos == 0 && src.pos == in_before)
      return corrupt(where, codec, "are corrupt (zstd decoder made no progress)");
  }
  w.finish();
  return status::ok();
}

} // namespace

status compress(compression codec, byte_view in, bytes& out, const compress_options& opts) {
  switch (codec) {
    case compression::none:
      out.insert(out.end(), in.begin(), in.end());
      return status::ok();
    case compression::gzip: return gzip_compress(in, out, opts.level);
    case compression::snappy:
      if (opts.snappy_xerial)
        snappy_xerial_compress(in, out);
      else
        snappy_raw_compress(in, out);
      return status::ok();
    case compression::lz4: return lz4_compress(in, out, opts.level);
    case compression::zstd: return zstd_compress(in, out, opts.level);
  }
  return {errc::unsupported_compression_type,
          "compression code " + std::to_string(int(codec)) + " is not one of Kafka's"};
}

status decompress(compression codec, byte_view in, bytes& out, size_t max_output_bytes,
                  const std::string& where) {
  size_t start = out.size();
  status st;
  switch (codec) {
    case compression::none:
      if (in.size > max_output_bytes)
        st = too_big(where, codec, max_output_bytes);
      else
        out.insert(out.end(), in.begin(), in.end());
      break;
    case compression::gzip: st = gzip_decompress(in, out, max_output_bytes, where); break;
    case compression::snappy: st = snappy_decompress(in, out, max_output_bytes, where); break;
    case compression::lz4: st = lz4_decompress(in, out, max_output_bytes, where); break;
    case compression::zstd: st = zstd_decompress(in, out, max_output_bytes, where); break;
    default:
      st = {errc::unsupported_compression_type,
            where + ": compression code " + std::to_string(int(codec)) + " is not one of Kafka's"};
  }
  if (!st)
    out.resize(start); // no half-decoded output on failure
  return st;
}

} // namespace al
