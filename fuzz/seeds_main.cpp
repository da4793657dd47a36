// SPDX-License-Identifier: Apache-2.0
//
// Writes the seed corpus of every fuzz target into OUT/<target>/: inputs made by the project's
// own generators (synthetic runs written as FIT in each of its layouts, GPX and TCX; a synthetic
// OSM file; requests, queries, tokens and bodies of each endpoint), plus, when the shared data
// folder is given and present, its activity files up to 128 KiB (devices, edge cases, hostile
// reproductions). Seeds are only starting points: nothing here is committed.
//
//   stride_fuzz_seeds build/fuzz/seeds ../shared/datasets
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "datasets/synthetic_activity.hpp"
#include "datasets/synthetic_osm.hpp"
#include "server/auth.hpp"
#include "server/http/gzip.hpp"
#include "server/inbound.hpp"

namespace {

namespace fs = std::filesystem;
using stride::datasets::FitWriteOptions;

constexpr uintmax_t kMaxSharedBytes = 128 * 1024;

struct Writer {
  fs::path out;
  size_t count = 0;
  bool failed = false;
  void Put(const std::string& target, const std::string& name, const std::string& bytes) {
    const fs::path dir = out / target;
    std::error_code ec;
    fs::create_directories(dir, ec);
    std::ofstream f(dir / name, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) {
      std::fprintf(stderr, "stride_fuzz_seeds: cannot write %s\n", (dir / name).c_str());
      failed = true;
    }
    ++count;
  }
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void ActivitySeeds(Writer& w) {
  stride::datasets::SyntheticRunOptions o;
  o.laps = 1;
  o.interval_s = 10;  // about 60 points: small seeds mutate faster
  o.noise_m = 3;
  o.ele_noise_m = 2;
  o.stop_at_m = 500;
  o.stop_s = 40;
  const stride::engine::Track run = stride::datasets::MakeSyntheticRun(o).recorded;
  const std::string gpx = stride::datasets::WriteGpx(run);
  const std::string tcx = stride::datasets::WriteTcx(run);
  w.Put("gpx", "synthetic.gpx", gpx);
  w.Put("tcx", "synthetic.tcx", tcx);
  w.Put("activity", "synthetic.gpx", gpx);
  w.Put("activity", "synthetic.tcx", tcx);
  w.Put("gpx", "latin1.gpx",
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<gpx version=\"1.1\" creator=\"S\xe9"
        "bastien\"><trk><name>Cr\xeate</name><trkseg><trkpt lat=\"42.5\" lon=\"1.5\"><ele>1000"
        "</ele><time>2024-05-01T08:00:00Z</time></trkpt><trkpt lat=\"42.501\" lon=\"1.5\">"
        "<time>2024-05-01T08:00:10Z</time></trkpt></trkseg></trk></gpx>\n");

  struct Layout {
    const char* name;
    FitWriteOptions options;
  };
  std::vector<Layout> layouts(6);
  layouts[0].name = "plain.fit";
  layouts[1].name = "big_endian.fit";
  layouts[1].options.big_endian = true;
  layouts[2].name = "compressed_timestamps.fit";
  layouts[2].options.compressed_timestamps = true;
  layouts[3].name = "developer_field.fit";
  layouts[3].options.developer_field = true;
  layouts[4].name = "legacy_altitude_no_session.fit";
  layouts[4].options.enhanced_altitude = false;
  layouts[4].options.with_session = false;
  layouts[5].name = "bad_crc.fit";
  layouts[5].options.corrupt_crc = true;
  for (const Layout& l : layouts) {
    const std::string fit = stride::datasets::WriteFit(run, l.options);
    w.Put("fit", l.name, fit);
    w.Put("activity", l.name, fit);
  }
}

void SharedActivitySeeds(Writer& w, const fs::path& shared) {
  const std::vector<std::pair<std::string, std::string>> folders = {
      {"fit", ".fit"}, {"fit/edge_cases", ".fit"}, {"gpx", ".gpx"},
      {"tcx", ".tcx"}, {"hostile", ".fit"},        {"hostile", ".gpx"}};
  for (const auto& [folder, ext] : folders) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(shared / folder, ec)) {
      if (!entry.is_regular_file(ec) || entry.path().extension() != ext) continue;
      if (entry.file_size(ec) > kMaxSharedBytes) continue;
      const std::string bytes = ReadAll(entry.path());
      const std::string target = ext.substr(1);
      const std::string name = "shared_" + entry.path().filename().string();
      w.Put(target, name, bytes);
      w.Put("activity", name, bytes);
    }
  }
}

void OsmSeeds(Writer& w) {
  stride::datasets::SyntheticOsmOptions o;
  o.target_nodes = 400;
  const fs::path tmp = w.out / "synthetic.osm";
  const auto stats = stride::datasets::WriteSyntheticOsm(tmp.string(), o);
  if (!stats.ok()) {
    std::fprintf(stderr, "stride_fuzz_seeds: %s\n", stats.status().message().c_str());
    w.failed = true;
    return;
  }
  w.Put("osm_xml", "synthetic.osm", ReadAll(tmp));
  std::error_code ec;
  fs::remove(tmp, ec);
  w.Put(
      "osm_xml", "route.osm",
      "<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n"
      " <node id=\"1\" lat=\"42.50\" lon=\"1.50\"/>\n <node id=\"2\" lat=\"42.51\" lon=\"1.51\"/>\n"
      " <node id=\"3\" lat=\"42.52\" lon=\"1.50\"/>\n"
      " <way id=\"10\"><nd ref=\"1\"/><nd ref=\"2\"/><nd ref=\"3\"/><nd ref=\"1\"/>"
      "<tag k=\"highway\" v=\"path\"/><tag k=\"name\" v=\"Cam\xc3\xad de la Font\"/></way>\n"
      " <relation id=\"100\"><member type=\"way\" ref=\"10\" role=\"\"/>"
      "<tag k=\"type\" v=\"route\"/><tag k=\"route\" v=\"hiking\"/>"
      "<tag k=\"name\" v=\"Volta\"/><tag k=\"network\" v=\"lwn\"/></relation>\n</osm>\n");
}

void ServerSeeds(Writer& w) {
  stride::datasets::SyntheticRunOptions o;
  o.laps = 1;
  o.interval_s = 10;
  const stride::engine::Track run = stride::datasets::MakeSyntheticRun(o).recorded;
  const std::string gpx_seed = stride::datasets::WriteGpx(run);
  const std::string fit_seed = stride::datasets::WriteFit(run);
  w.Put("http_request", "get.txt",
        "GET /v1/routes?bbox=1.4,42.4,1.8,42.7&sort=length&limit=5 HTTP/1.1\r\nHost: x\r\n"
        "Accept: application/json\r\n\r\n");
  w.Put("http_request", "chunked.txt",
        "POST /v1/runs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: application/gpx+xml\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n"
        "Trailer: x\r\n\r\n");
  const std::string body = "<gpx/>";
  w.Put("http_request", "webhook.txt",
        "POST /v1/webhooks/acme HTTP/1.1\r\nWebhook-Id: ev-1\r\nWebhook-Timestamp: 1700000000\r\n"
        "Webhook-User: u-42\r\nWebhook-Signature: " +
            stride::server::SignInbound("a-secret-of-the-provider", "ev-1", 1700000000, "u-42",
                                        body) +
            "\r\n\r\n" + body);
  w.Put("http_request", "escaped_path.txt", "GET /v1/nothing%FF%0A%C0%AF?%FF=1 HTTP/1.0\r\n\r\n");

  const std::vector<std::string> queries = {
      std::string("\x00?bbox=1.4,42.4,1.8,42.7&sort=length&limit=5", 44),
      "\x01?lat=42.5&lon=1.5&k=3&max_distance_m=20000&type=hiking,running",
      "\x02"
      "1?format=geojson&tolerance_m=5",
      "\x02r1?format=polyline6&zoom=12",
      "\x03"
      "2",
      "\x80?bbox=1.4,42.4,1.8,42.7&min_length_m=1000&max_ascent_m=900&loop=true&surface=paved",
      "\x00?bbox=%FF,1,2,3&sort=%FE&cursor=abc"};
  for (size_t i = 0; i < queries.size(); ++i) {
    w.Put("route_params", "query" + std::to_string(i) + ".txt", queries[i]);
  }

  // Runs: list, the stored run (0x40: its id), its track in each format, its file, uploads.
  const std::vector<std::string> runs = {std::string("\x00?limit=5", 10),
                                         std::string("\x00?before=abc&limit=%FF&%FF=1", 29),
                                         "\x41",
                                         "\x42?format=gpx",
                                         "\x42?format=polyline6",
                                         "\x02%FF%FE?format=%FF",
                                         "\x43",
                                         "\x04key-1\nrun\xff.gpx\n" + gpx_seed,
                                         "\x84\n\n" + fit_seed};
  for (size_t i = 0; i < runs.size(); ++i) {
    w.Put("run_params", "request" + std::to_string(i) + ".txt", runs[i]);
  }

  const stride::server::Jwt jwt("0123456789abcdef0123456789abcdef-fuzz");
  w.Put("jwt", "minted.txt", std::string(1, '\0') + jwt.Mint("alice", "runner:read", 3600, 1.7e9));
  w.Put("jwt", "claims.txt",
        "\x01{\"alg\":\"HS256\",\"typ\":\"JWT\"}\n{\"sub\":\"bob\",\"exp\":2000000000,"
        "\"nbf\":1600000000,\"scope\":\"runner:read runner:write\"}");
  w.Put("jwt", "mint.txt",
        "\x02"
        "carol\nrunner:read chat:ask admin");

  w.Put("multipart", "upload.txt",
        "multipart/form-data; boundary=XyZ\n--XyZ\r\nContent-Disposition: form-data; "
        "name=\"file\"; filename=\"run.gpx\"\r\nContent-Type: application/gpx+xml\r\n\r\n"
        "<gpx/>\r\n--XyZ--\r\n");
  w.Put("multipart", "quoted.txt",
        "multipart/form-data; boundary=\"a b\"\n--a b\r\nContent-Disposition: form-data; "
        "name=\"note\"\r\n\r\nhi\r\n--a b\r\nContent-Disposition: form-data; name=\"f\"; "
        "filename=\"x\xff.fit\"\r\n\r\n.FIT\r\n--a b--\r\n");

  w.Put("gzip", "text.gz", std::string(1, '\3') + stride::server::http::Gzip("hello, runner\n"));
  w.Put("gzip", "zeros.gz",
        std::string(1, '\0') + stride::server::http::Gzip(std::string(5000, '\0')));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: stride_fuzz_seeds OUT_DIR [SHARED_DATASETS_DIR]\n");
    return 2;
  }
  Writer w;
  w.out = argv[1];
  ActivitySeeds(w);
  OsmSeeds(w);
  ServerSeeds(w);
  std::error_code ec;
  if (argc == 3 && fs::is_directory(argv[2], ec)) {
    SharedActivitySeeds(w, argv[2]);
  } else if (argc == 3) {
    std::printf("stride_fuzz_seeds: %s is absent; generated seeds only\n", argv[2]);
  }
  if (w.failed) return 1;
  std::printf("stride_fuzz_seeds: %zu seeds in %s\n", w.count, argv[1]);
  return 0;
}
