// SPDX-License-Identifier: Apache-2.0
//
// stride._stride: the C API (include/stride/stride.h) as a Python extension, one thin class or
// function per handle or call. The GIL is released while the engine works, so Python threads
// analyse and query in parallel. A C API error raises the Python class registered for its code
// (stride/__init__.py: InvalidInput, NotFound, ...) with the C API's message. Everything
// Pythonic (options as keywords, dicts from JSON, numpy streams) is in stride/__init__.py.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "stride/stride.h"

namespace py = pybind11;

namespace {

// A failed C API call, raised in Python as the class registered for its code.
struct CallError {
  int code;
  std::string message;
};

py::dict& ErrorClasses() {
  static py::dict* classes = new py::dict();  // never destroyed: lives as long as the module
  return *classes;
}

void Check(int code) {
  if (code != STRIDE_OK) throw CallError{code, stride_last_error()};
}

class Dem {
 public:
  explicit Dem(const std::string& dir) {
    int code;
    {
      py::gil_scoped_release unlocked;
      code = stride_dem_open(dir.c_str(), &dem_);
    }
    Check(code);
  }
  ~Dem() { stride_dem_close(dem_); }
  Dem(const Dem&) = delete;
  Dem& operator=(const Dem&) = delete;
  const stride_dem_t* get() const { return dem_; }
  // The JSON array of stride_dem_unreadable.
  std::string Unreadable() const {
    char* json = nullptr;
    size_t size = 0;
    Check(stride_dem_unreadable(dem_, &json, &size));
    std::string text(json, size);
    stride_free(json);
    return text;
  }

 private:
  stride_dem_t* dem_ = nullptr;
};

class Analysis {
 public:
  explicit Analysis(stride_analysis_t* a) : a_(a) {}
  ~Analysis() { stride_analysis_free(a_); }
  Analysis(const Analysis&) = delete;
  Analysis& operator=(const Analysis&) = delete;

  std::string json() const {
    size_t size = 0;
    const char* text = stride_analysis_json(a_, &size);
    return std::string(text, size);
  }
  size_t sessions() const { return stride_analysis_session_count(a_); }
  std::string format() const { return stride_analysis_format(a_); }
  // A copy of one stream as a numpy array (the analysis may be dropped before the array).
  py::array_t<double> stream(size_t session, int stream) const {
    const double* values = nullptr;
    size_t count = 0;
    Check(stride_analysis_stream(a_, session, stream, &values, &count));
    return py::array_t<double>(static_cast<py::ssize_t>(count), values);
  }

 private:
  stride_analysis_t* a_;
};

struct Options {
  std::optional<std::string> sport, name;
  double max_hr = 0, rest_hr = 60;
  std::vector<double> hr_zones;
  const Dem* dem = nullptr;

  stride_analyze_options_t ToC() const {
    stride_analyze_options_t o;
    stride_analyze_options_init(&o);
    o.sport = sport ? sport->c_str() : nullptr;
    o.name = name ? name->c_str() : nullptr;
    o.max_hr_bpm = max_hr;
    o.rest_hr_bpm = rest_hr;
    if (!hr_zones.empty()) {
      if (hr_zones.size() != 4) {
        throw CallError{STRIDE_E_INVALID,
                        "hr_zones: expected four increasing bpm values (lower bounds of zones "
                        "2-5), got " +
                            std::to_string(hr_zones.size())};
      }
      for (size_t k = 0; k < 4; ++k) o.hr_zone_bounds_bpm[k] = hr_zones[k];
    }
    o.dem = dem != nullptr ? dem->get() : nullptr;
    return o;
  }
};

Options MakeOptions(std::optional<std::string> sport, std::optional<double> max_hr,
                    std::optional<double> rest_hr, std::optional<std::vector<double>> hr_zones,
                    const Dem* dem, std::optional<std::string> name) {
  Options o;
  o.sport = std::move(sport);
  o.name = std::move(name);
  if (max_hr) o.max_hr = *max_hr;
  if (rest_hr) o.rest_hr = *rest_hr;
  if (hr_zones) o.hr_zones = *hr_zones;
  o.dem = dem;
  return o;
}

std::unique_ptr<Analysis> AnalyzeFile(const std::string& path, const Options& options) {
  const stride_analyze_options_t o = options.ToC();
  stride_analysis_t* a = nullptr;
  int code;
  {
    py::gil_scoped_release unlocked;
    code = stride_analyze_file(path.c_str(), &o, &a);
  }
  Check(code);
  return std::make_unique<Analysis>(a);
}

std::unique_ptr<Analysis> AnalyzeBuffer(const py::buffer& data, const Options& options) {
  const py::buffer_info info = data.request();
  if (info.ndim != 1 || info.itemsize != 1) {
    throw CallError{STRIDE_E_INVALID, "data: expected bytes (a one-dimensional byte buffer)"};
  }
  const stride_analyze_options_t o = options.ToC();
  stride_analysis_t* a = nullptr;
  int code;
  {
    py::gil_scoped_release unlocked;  // `data` is held by the caller for the call
    code = stride_analyze_buffer(info.ptr, static_cast<size_t>(info.size), &o, &a);
  }
  Check(code);
  return std::make_unique<Analysis>(a);
}

class Database {
 public:
  explicit Database(const std::string& path) {
    int code;
    {
      py::gil_scoped_release unlocked;
      code = stride_db_open(path.c_str(), &db_);
    }
    Check(code);
  }
  ~Database() { stride_db_close(db_); }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one query without the GIL; its JSON text, or the error.
  template <typename F>
  std::string Ask(F&& query) const {
    if (db_ == nullptr) throw CallError{STRIDE_E_INVALID, "the database is closed"};
    char* json = nullptr;
    size_t size = 0;
    int code;
    {
      py::gil_scoped_release unlocked;
      code = query(&json, &size);
    }
    Check(code);
    std::string text(json, size);
    stride_free(json);
    return text;
  }
  void Close() {
    stride_db_close(db_);
    db_ = nullptr;
  }
  const stride_db_t* get() const { return db_; }

 private:
  stride_db_t* db_ = nullptr;
};

}  // namespace

PYBIND11_MODULE(_stride, m) {
  m.doc() = "Stride's C API (see the stride package for the Python interface)";
  m.attr("API_VERSION") = stride_api_version();
  m.attr("VERSION") = stride_version();
  m.def(
      "keep_freed_memory",
      [](size_t bytes) { return stride_keep_freed_memory(bytes) == STRIDE_OK; }, py::arg("bytes"));
  m.attr("STREAMS") = [] {
    py::list names;
    for (int s = 0; s < STRIDE_STREAM_COUNT; ++s) names.append(stride_stream_name(s));
    return names;
  }();

  m.def("_set_error_classes", [](py::dict classes) { ErrorClasses() = std::move(classes); });
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const CallError& e) {
      py::dict& classes = ErrorClasses();
      const py::int_ code(e.code);
      py::object cls = classes.contains(code)
                           ? classes[code]
                           : py::reinterpret_borrow<py::object>(PyExc_RuntimeError);
      PyErr_SetObject(cls.ptr(), py::make_tuple(e.message, e.code).ptr());
    }
  });

  py::class_<Dem>(m, "Dem")
      .def(py::init<const std::string&>(), py::arg("dir"))
      .def("unreadable", &Dem::Unreadable);

  py::class_<Analysis>(m, "Analysis")
      .def_property_readonly("json", &Analysis::json)
      .def_property_readonly("sessions", &Analysis::sessions)
      .def_property_readonly("format", &Analysis::format)
      .def("stream", &Analysis::stream, py::arg("session"), py::arg("stream"));

  py::class_<Options>(m, "Options");
  m.def("options", &MakeOptions, py::arg("sport") = py::none(), py::arg("max_hr") = py::none(),
        py::arg("rest_hr") = py::none(), py::arg("hr_zones") = py::none(), py::arg("dem") = nullptr,
        py::arg("name") = py::none(), py::keep_alive<0, 5>());
  m.def("analyze_file", &AnalyzeFile, py::arg("path"), py::arg("options"));
  m.def("analyze_buffer", &AnalyzeBuffer, py::arg("data"), py::arg("options"));

  py::class_<Database>(m, "Database")
      .def(py::init<const std::string&>(), py::arg("path"))
      .def("close", &Database::Close)
      .def("routes",
           [](const Database& d, double w, double s, double e, double n, const std::string& q) {
             return d.Ask([&](char** j, size_t* z) {
               return stride_db_routes(d.get(), w, s, e, n, q.c_str(), j, z);
             });
           })
      .def("nearest",
           [](const Database& d, double lat, double lon, const std::string& q) {
             return d.Ask([&](char** j, size_t* z) {
               return stride_db_nearest(d.get(), lat, lon, q.c_str(), j, z);
             });
           })
      .def("route",
           [](const Database& d, const std::string& id, const std::string& q) {
             return d.Ask([&](char** j, size_t* z) {
               return stride_db_route(d.get(), id.c_str(), q.c_str(), j, z);
             });
           })
      .def("profile",
           [](const Database& d, const std::string& id) {
             return d.Ask(
                 [&](char** j, size_t* z) { return stride_db_profile(d.get(), id.c_str(), j, z); });
           })
      .def("directions",
           [](const Database& d, double a_lat, double a_lon, double b_lat, double b_lon,
              const std::string& q) {
             return d.Ask([&](char** j, size_t* z) {
               return stride_db_directions(d.get(), a_lat, a_lon, b_lat, b_lon, q.c_str(), j, z);
             });
           })
      .def("loop",
           [](const Database& d, double lat, double lon, double distance_m, const std::string& q) {
             return d.Ask([&](char** j, size_t* z) {
               return stride_db_loop(d.get(), lat, lon, distance_m, q.c_str(), j, z);
             });
           })
      .def("match", [](const Database& d, const py::bytes& data, const std::string& q) {
        const std::string_view bytes(data);
        return d.Ask([&](char** j, size_t* z) {
          return stride_db_match(d.get(), bytes.data(), bytes.size(), q.c_str(), j, z);
        });
      });
}
