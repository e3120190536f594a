#pragma once
// Named options for environments and wrappers, as they come from YAML or `--set key=value`.
//
// Each env or wrapper declares its options with a default; the default's type is the option's
// type. Given values are converted to it (text "9.81" to a number, "true" to a bool) or refused
// with a message naming the owner, the option, the value and the expected type.

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace rlforge {

using OptionValue = std::variant<bool, int64_t, double, std::string>;

std::string option_value_text(const OptionValue& value);
// "a, b, c" (or "(none)"), for messages that list what exists.
std::string join_names(const std::vector<std::string>& names);
const char* option_type_name(const OptionValue& value);

// Values given by a user, by name.
class Options {
 public:
  Options() = default;
  Options(std::initializer_list<std::pair<const std::string, OptionValue>> values)
      : values_(values) {}

  Options& set(const std::string& name, OptionValue value) {
    values_[name] = std::move(value);
    return *this;
  }
  bool contains(const std::string& name) const { return values_.count(name) != 0; }
  bool empty() const { return values_.empty(); }
  const std::map<std::string, OptionValue>& values() const { return values_; }

  // Parses "key=value" (the value stays text and is converted against the declaration).
  static std::pair<std::string, std::string> parse_assignment(const std::string& text);
  // Sets each assignment of "key=value,key=value" (EnvError naming a malformed one).
  Options& set_assignments(const std::string& text);

 private:
  std::map<std::string, OptionValue> values_;
};

struct OptionDecl {
  std::string name;
  OptionValue default_value;
  std::string help;
};

// Declared options resolved against given ones: every declared option has a value of its type.
class ResolvedOptions {
 public:
  // `owner` names the env or wrapper in error messages ("env 'Pendulum-v1'").
  ResolvedOptions(const std::string& owner, const std::vector<OptionDecl>& declared,
                  const Options& given);

  bool get_bool(const std::string& name) const;
  int64_t get_int(const std::string& name) const;
  double get_double(const std::string& name) const;
  const std::string& get_string(const std::string& name) const;
  // Whether the user gave this option (rather than it taking its default).
  bool given(const std::string& name) const { return given_.count(name) != 0; }
  const std::string& owner() const { return owner_; }

 private:
  const OptionValue& find(const std::string& name) const;

  std::string owner_;
  std::map<std::string, OptionValue> values_;
  std::map<std::string, bool> given_;
};

}  // namespace rlforge
