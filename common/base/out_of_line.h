// A value kept behind a pointer, for the rarely set parts of structs a job keeps a million of
// (CardSpec's argv, env, limits, cache version): unset, it costs one pointer and reads as T{}.
// Copies copy the value; moves move the pointer.
#pragma once

#include <memory>

namespace hollerith {

template <typename T>
class OutOfLine {
 public:
  OutOfLine() = default;
  OutOfLine(const OutOfLine& other)
      : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
  OutOfLine(OutOfLine&&) noexcept = default;
  OutOfLine& operator=(const OutOfLine& other) {
    if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    return *this;
  }
  OutOfLine& operator=(OutOfLine&&) noexcept = default;
  ~OutOfLine() = default;

  bool set() const { return value_ != nullptr; }  // mutable_get() was called
  const T& get() const {
    static const T kUnset{};
    return value_ ? *value_ : kUnset;
  }
  // Makes the value if unset: call it only to write something (a reader uses get()).
  T& mutable_get() {
    if (!value_) value_ = std::make_unique<T>();
    return *value_;
  }

 private:
  std::unique_ptr<T> value_;
};

}  // namespace hollerith
