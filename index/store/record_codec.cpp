// SPDX-License-Identifier: Apache-2.0
#include "index/store/record_codec.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <cmath>

#include "stride/route.pb.h"

namespace stride::index {
namespace {

using engine::PointE7;

void PutLine(const std::vector<PointE7>& points, const std::vector<uint32_t>& part_starts,
             proto::Line* out) {
  out->mutable_delta_e7()->Reserve(static_cast<int>(points.size() * 2));
  int32_t lat = 0, lon = 0;
  for (const PointE7& p : points) {
    out->add_delta_e7(
        static_cast<int32_t>(static_cast<uint32_t>(p.lat) - static_cast<uint32_t>(lat)));
    out->add_delta_e7(
        static_cast<int32_t>(static_cast<uint32_t>(p.lon) - static_cast<uint32_t>(lon)));
    lat = p.lat;
    lon = p.lon;
  }
  for (uint32_t s : part_starts) out->add_part_starts(s);
}

bool GetLine(const proto::Line& in, std::vector<PointE7>* points,
             std::vector<uint32_t>* part_starts) {
  if (in.delta_e7_size() % 2 != 0) return false;
  const size_t n = static_cast<size_t>(in.delta_e7_size()) / 2;
  points->resize(n);
  uint32_t lat = 0, lon = 0;
  for (size_t i = 0; i < n; ++i) {
    lat += static_cast<uint32_t>(in.delta_e7(static_cast<int>(2 * i)));
    lon += static_cast<uint32_t>(in.delta_e7(static_cast<int>(2 * i + 1)));
    (*points)[i] = {static_cast<int32_t>(lat), static_cast<int32_t>(lon)};
  }
  if (part_starts) {
    part_starts->assign(in.part_starts().begin(), in.part_starts().end());
    for (uint32_t s : *part_starts) {
      if (s >= std::max<size_t>(n, 1)) return false;
    }
  }
  return true;
}

std::string Serialize(const google::protobuf::MessageLite& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  }
  return out;
}

}  // namespace

std::string EncodeRoute(const engine::Route& r) {
  proto::RouteRecord m;
  const engine::RouteSummary& s = r.summary;
  m.set_id(s.id);
  m.set_origin(static_cast<proto::RouteRecord::Origin>(r.origin));
  m.set_osm_id(r.osm_id);
  m.set_type(static_cast<uint32_t>(s.type));
  m.set_route_tag(r.route_tag);
  m.set_name(r.name);
  m.set_ref(r.ref);
  m.set_network(r.network);
  m.set_network_level(s.network);
  m.set_operator_(r.operator_name);
  m.set_symbol(r.symbol);
  m.set_sac_scale(r.sac_scale);
  m.set_difficulty(s.difficulty);
  m.set_website(r.website);
  m.set_description(r.description);
  PutLine(r.geometry.points, r.geometry.part_starts, m.mutable_geometry());
  for (const engine::RouteBranch& b : r.branches) {
    proto::Branch* pb = m.add_branches();
    pb->set_role(b.role);
    PutLine(b.geometry.points, b.geometry.part_starts, pb->mutable_line());
    pb->set_length_m(b.length_m);
  }
  m.set_length_m(r.length_m);
  m.set_ascent_m(r.ascent_m);
  m.set_descent_m(r.descent_m);
  m.set_max_grade(r.max_grade);
  m.set_avg_grade(r.avg_grade);
  m.set_loop(s.loop);
  proto::Box* box = m.mutable_bbox();
  box->set_min_lat(s.bbox.min_lat);
  box->set_min_lon(s.bbox.min_lon);
  box->set_max_lat(s.bbox.max_lat);
  box->set_max_lon(s.bbox.max_lon);
  m.set_surface_class(static_cast<uint32_t>(s.surface));
  for (const engine::SurfaceShare& sh : r.surfaces) {
    proto::SurfaceShare* ps = m.add_surfaces();
    ps->set_surface(sh.surface);
    ps->set_length_m(sh.length_m);
  }
  if (!r.profile.empty()) {
    proto::Profile* p = m.mutable_profile();
    p->mutable_distance_m()->Add(r.profile.distance_m.begin(), r.profile.distance_m.end());
    p->mutable_elevation_m()->Add(r.profile.elevation_m.begin(), r.profile.elevation_m.end());
  }
  m.set_elevation_method(r.elevation_method);
  m.mutable_member_ways()->Add(r.member_ways.begin(), r.member_ways.end());
  m.mutable_member_relations()->Add(r.member_relations.begin(), r.member_relations.end());
  m.set_missing_members(r.missing_members);
  return Serialize(m);
}

Result<engine::Route> DecodeRoute(std::string_view bytes) {
  proto::RouteRecord m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::Corruption("route record: not a valid protobuf RouteRecord (" +
                              std::to_string(bytes.size()) + " bytes)");
  }
  engine::Route r;
  engine::RouteSummary& s = r.summary;
  s.id = m.id();
  r.origin = static_cast<engine::OsmOrigin>(std::min<uint32_t>(m.origin(), 2));
  r.osm_id = m.osm_id();
  s.type = static_cast<engine::RouteType>(
      std::min<uint32_t>(m.type(), static_cast<uint32_t>(engine::RouteType::kOther)));
  r.route_tag = m.route_tag();
  r.name = m.name();
  r.ref = m.ref();
  r.network = m.network();
  s.network = static_cast<uint8_t>(std::min<uint32_t>(m.network_level(), 4));
  r.operator_name = m.operator_();
  r.symbol = m.symbol();
  r.sac_scale = m.sac_scale();
  s.difficulty = static_cast<uint8_t>(std::min<uint32_t>(m.difficulty(), 6));
  r.website = m.website();
  r.description = m.description();
  if (!GetLine(m.geometry(), &r.geometry.points, &r.geometry.part_starts)) {
    return Status::Corruption("route record " + std::to_string(m.id()) + ": malformed geometry");
  }
  for (const proto::Branch& pb : m.branches()) {
    engine::RouteBranch b;
    b.role = pb.role();
    if (!GetLine(pb.line(), &b.geometry.points, &b.geometry.part_starts)) {
      return Status::Corruption("route record " + std::to_string(m.id()) + ": malformed branch");
    }
    b.length_m = pb.length_m();
    r.branches.push_back(std::move(b));
  }
  r.length_m = m.length_m();
  r.ascent_m = m.ascent_m();
  r.descent_m = m.descent_m();
  r.max_grade = m.max_grade();
  r.avg_grade = m.avg_grade();
  s.loop = m.loop();
  s.bbox = {m.bbox().min_lat(), m.bbox().min_lon(), m.bbox().max_lat(), m.bbox().max_lon()};
  if (!r.geometry.points.empty()) s.start = r.geometry.points.front();
  s.length_m = static_cast<float>(r.length_m);
  s.ascent_m = static_cast<float>(r.ascent_m);
  s.max_grade = static_cast<float>(r.max_grade);
  s.surface = static_cast<engine::Surface>(
      std::min<uint32_t>(m.surface_class(), static_cast<uint32_t>(engine::Surface::kMixed)));
  for (const proto::SurfaceShare& ps : m.surfaces())
    r.surfaces.push_back({ps.surface(), ps.length_m()});
  if (m.profile().distance_m_size() != m.profile().elevation_m_size()) {
    return Status::Corruption("route record " + std::to_string(m.id()) + ": profile arrays differ");
  }
  r.profile.distance_m.assign(m.profile().distance_m().begin(), m.profile().distance_m().end());
  r.profile.elevation_m.assign(m.profile().elevation_m().begin(), m.profile().elevation_m().end());
  r.elevation_method = m.elevation_method();
  r.member_ways.assign(m.member_ways().begin(), m.member_ways().end());
  r.member_relations.assign(m.member_relations().begin(), m.member_relations().end());
  r.missing_members = m.missing_members();
  return r;
}

std::string EncodeEdge(const engine::TrailEdge& e) {
  proto::TrailEdgeRecord m;
  m.set_id(e.id);
  m.set_way_id(e.way_id);
  m.set_from_node(e.from_node);
  m.set_to_node(e.to_node);
  PutLine(e.points, {}, m.mutable_line());
  m.set_length_m(e.length_m);
  m.set_ascent_m(e.ascent_m);
  m.set_descent_m(e.descent_m);
  m.set_has_elevation(e.has_elevation);
  m.set_highway(e.highway);
  m.set_name(e.name);
  m.set_foot(e.foot);
  m.set_surface(e.surface);
  m.set_surface_class(static_cast<uint32_t>(e.surface_class));
  m.set_sac(e.sac);
  for (float z : e.elevations) m.add_elevation_dm(static_cast<int32_t>(std::lround(z * 10.0f)));
  return Serialize(m);
}

Result<engine::TrailEdge> DecodeEdge(std::string_view bytes) {
  proto::TrailEdgeRecord m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::Corruption("trail edge record: not a valid protobuf TrailEdgeRecord");
  }
  engine::TrailEdge e;
  e.id = m.id();
  e.way_id = m.way_id();
  e.from_node = m.from_node();
  e.to_node = m.to_node();
  if (!GetLine(m.line(), &e.points, nullptr)) {
    return Status::Corruption("trail edge " + std::to_string(m.id()) + ": malformed line");
  }
  e.length_m = m.length_m();
  e.ascent_m = m.ascent_m();
  e.descent_m = m.descent_m();
  e.has_elevation = m.has_elevation();
  e.highway = m.highway();
  e.name = m.name();
  e.foot = static_cast<uint8_t>(std::min<uint32_t>(m.foot(), 2));
  e.surface = m.surface();
  e.surface_class = static_cast<engine::Surface>(std::min<uint32_t>(m.surface_class(), 3));
  e.sac = static_cast<uint8_t>(std::min<uint32_t>(m.sac(), 6));
  if (m.elevation_dm_size() != 0) {
    if (static_cast<size_t>(m.elevation_dm_size()) != e.points.size()) {
      return Status::Corruption("trail edge " + std::to_string(m.id()) + ": " +
                                std::to_string(m.elevation_dm_size()) + " elevations for " +
                                std::to_string(e.points.size()) + " points");
    }
    e.elevations.reserve(e.points.size());
    for (int32_t dm : m.elevation_dm()) e.elevations.push_back(static_cast<float>(dm) / 10.0f);
  }
  return e;
}

Status DecodeRouteLine(std::string_view bytes, engine::RouteGeometry* geometry, std::string* name) {
  using google::protobuf::internal::WireFormatLite;
  constexpr uint32_t kNameField = proto::RouteRecord::kNameFieldNumber;
  constexpr uint32_t kGeometryField = proto::RouteRecord::kGeometryFieldNumber;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  geometry->points.clear();
  geometry->part_starts.clear();
  name->clear();
  while (const uint32_t tag = in.ReadTag()) {
    const uint32_t field = WireFormatLite::GetTagFieldNumber(tag);
    const bool delimited =
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
    if (field == kNameField && delimited) {
      if (!WireFormatLite::ReadString(&in, name)) break;
    } else if (field == kGeometryField && delimited) {
      uint32_t length = 0;
      const void* data = nullptr;
      int size = 0;
      if (!in.ReadVarint32(&length) || !in.GetDirectBufferPointer(&data, &size) ||
          static_cast<uint32_t>(size) < length) {
        break;
      }
      proto::Line line;
      if (!line.ParseFromArray(data, static_cast<int>(length)) ||
          !GetLine(line, &geometry->points, &geometry->part_starts)) {
        break;
      }
      in.Skip(static_cast<int>(length));
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      break;
    }
  }
  if (!in.ConsumedEntireMessage() || in.CurrentPosition() != static_cast<int>(bytes.size())) {
    return Status::Corruption("route record: malformed bytes at offset " +
                              std::to_string(in.CurrentPosition()));
  }
  return Status::Ok();
}

}  // namespace stride::index
