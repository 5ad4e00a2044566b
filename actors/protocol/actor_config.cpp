#include "actors/protocol/actor_config.hpp"

#include <caf/all.hpp>

#include "actors/controller/metadata_machine.hpp"
#include "actors/protocol/admin_messages.hpp"
#include "actors/protocol/errors.hpp"
#include "actors/protocol/messages.hpp"

namespace al {

actor_config::actor_config() {
  add_message_type<bytes>("al::bytes");
  add_message_type<std::vector<int32_t>>("al::int32_vec");
  add_message_type<topic_partition>("al::topic_partition");
  add_message_type<produce_request>("al::produce_request");
  add_message_type<produce_response>("al::produce_response");
  add_message_type<fetch_request>("al::fetch_request");
  add_message_type<fetch_response>("al::fetch_response");
  add_message_type<list_offsets_request>("al::list_offsets_request");
  add_message_type<list_offsets_response>("al::list_offsets_response");
  add_message_type<producer_id_response>("al::producer_id_response");
  add_message_type<create_topic_request>("al::create_topic_request");
  add_message_type<alter_topic_request>("al::alter_topic_request");
  add_message_type<partition_description>("al::partition_description");
  add_message_type<topic_description>("al::topic_description");
  add_message_type<broker_description>("al::broker_description");
  add_message_type<quorum_member>("al::quorum_member");
  add_message_type<cluster_description>("al::cluster_description");
  add_message_type<metadata_request>("al::metadata_request");
  add_message_type<metadata_response>("al::metadata_response");
  add_message_type<metadata_image>("al::metadata_image");
  add_error_category(error_category, [](uint8_t code, caf::atom_value, const caf::message& ctx) {
    std::string s{"actorlog:"};
    s += to_string(static_cast<errc>(code));
    if (!ctx.empty())
      s += " " + caf::to_string(ctx);
    return s;
  });
}

} // namespace al
