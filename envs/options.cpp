#include "rlforge/envs/options.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "rlforge/envs/env.h"

namespace rlforge {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Whole text only: no surrounding blanks, nothing after the number.
bool parse_int(const std::string& text, int64_t& out) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return false;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  out = v;
  return true;
}

// Finite numbers only: "nan" and "inf" are no sensible option values.
bool parse_double(const std::string& text, double& out) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return false;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (errno != 0 || *end != '\0' || !std::isfinite(v)) return false;
  out = v;
  return true;
}

// Converts `given` to the type of `declared`, or returns false.
bool convert(const OptionValue& given, const OptionValue& declared, OptionValue& out) {
  if (given.index() == declared.index()) {
    if (const auto* d = std::get_if<double>(&given); d && !std::isfinite(*d)) return false;
    out = given;
    return true;
  }
  const auto* text = std::get_if<std::string>(&given);
  if (std::holds_alternative<bool>(declared)) {
    if (text) {
      const std::string t = lower(*text);
      if (t == "true" || t == "yes" || t == "on" || t == "1") return out = true, true;
      if (t == "false" || t == "no" || t == "off" || t == "0") return out = false, true;
    }
    if (const auto* i = std::get_if<int64_t>(&given); i && (*i == 0 || *i == 1)) {
      return out = (*i == 1), true;
    }
    return false;
  }
  if (std::holds_alternative<int64_t>(declared)) {
    int64_t v;
    if (text && parse_int(*text, v)) return out = v, true;
    if (const auto* d = std::get_if<double>(&given); d && std::floor(*d) == *d && std::abs(*d) < 9e15) {
      return out = static_cast<int64_t>(*d), true;
    }
    return false;
  }
  if (std::holds_alternative<double>(declared)) {
    double v;
    if (text && parse_double(*text, v)) return out = v, true;
    if (const auto* i = std::get_if<int64_t>(&given)) return out = static_cast<double>(*i), true;
    return false;
  }
  // Declared string: accept only text.
  return false;
}

}  // namespace

std::string option_value_text(const OptionValue& value) {
  struct Visitor {
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", d);
      return buf;
    }
    std::string operator()(const std::string& s) const { return "\"" + s + "\""; }
  };
  return std::visit(Visitor{}, value);
}

std::string join_names(const std::vector<std::string>& names) {
  if (names.empty()) return "(none)";
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

const char* option_type_name(const OptionValue& value) {
  switch (value.index()) {
    case 0: return "a boolean (true/false)";
    case 1: return "an integer";
    case 2: return "a number";
    default: return "a string";
  }
}

std::pair<std::string, std::string> Options::parse_assignment(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw EnvError("option '" + text + "' is not of the form key=value");
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

Options& Options::set_assignments(const std::string& text) {
  std::size_t begin = 0;
  while (begin <= text.size()) {
    const std::size_t comma = std::min(text.find(',', begin), text.size());
    const auto [name, value] = parse_assignment(text.substr(begin, comma - begin));
    set(name, value);
    begin = comma + 1;
  }
  return *this;
}

ResolvedOptions::ResolvedOptions(const std::string& owner, const std::vector<OptionDecl>& declared,
                                 const Options& given)
    : owner_(owner) {
  for (const auto& decl : declared) values_[decl.name] = decl.default_value;
  for (const auto& [name, value] : given.values()) {
    const OptionDecl* decl = nullptr;
    for (const auto& d : declared) {
      if (d.name == name) decl = &d;
    }
    if (!decl) {
      std::vector<std::string> valid;
      for (const auto& d : declared) valid.push_back(d.name);
      throw EnvError(owner + " has no option '" + name + "'; valid options: " + join_names(valid));
    }
    OptionValue converted;
    if (!convert(value, decl->default_value, converted)) {
      throw EnvError(owner + ": option '" + name + "' expects " +
                     option_type_name(decl->default_value) + ", got " + option_value_text(value));
    }
    values_[name] = std::move(converted);
    given_[name] = true;
  }
}

const OptionValue& ResolvedOptions::find(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) throw EnvError(owner_ + ": option '" + name + "' was never declared");
  return it->second;
}

bool ResolvedOptions::get_bool(const std::string& name) const { return std::get<bool>(find(name)); }
int64_t ResolvedOptions::get_int(const std::string& name) const {
  return std::get<int64_t>(find(name));
}
double ResolvedOptions::get_double(const std::string& name) const {
  return std::get<double>(find(name));
}
const std::string& ResolvedOptions::get_string(const std::string& name) const {
  return std::get<std::string>(find(name));
}

}  // namespace rlforge
