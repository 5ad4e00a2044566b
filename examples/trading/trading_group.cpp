#include "groups.hpp"

namespace trading {

trading_group::trading_group(demo_context& ctx, std::string group, std::string style)
  : ctx_(ctx), ledger_(std::move(group), ctx.start), style_(std::move(style)) {}

trading_group::~trading_group() {
  if (thread_.joinable())
    thread_.join();
}

void trading_group::start() {
  thread_ = std::thread([this] {
    try {
      run();
    } catch (const std::exception& e) {
      add_check(name() + " ran", false, e.what());
    }
  });
}

void trading_group::finish() {
  if (thread_.joinable())
    thread_.join();
}

std::vector<check_result> trading_group::checks() const {
  std::lock_guard<std::mutex> guard{checks_mtx_};
  return checks_;
}

void trading_group::add_check(std::string check, bool ok, std::string detail) {
  std::lock_guard<std::mutex> guard{checks_mtx_};
  checks_.push_back(check_result{std::move(check), ok, std::move(detail)});
}

bool trading_group::read_everything() const {
  auto end = ctx_.end();
  return end && ledger_.covers(*end);
}

} // namespace trading
