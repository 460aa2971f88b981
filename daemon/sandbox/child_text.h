// Allocation-free text building for the setup processes (they may not call malloc after
// clone). A TextBuffer silently truncates; callers size it for the longest possible text.
#pragma once

#include <cstddef>

namespace nsbroker::sandbox {

template <std::size_t N>
class TextBuffer {
 public:
  TextBuffer& text(const char* s) {
    while (*s && length_ + 1 < N) data_[length_++] = *s++;
    data_[length_] = '\0';
    return *this;
  }
  TextBuffer& prefix(const char* s, std::size_t count) {
    while (count-- > 0 && *s && length_ + 1 < N) data_[length_++] = *s++;
    data_[length_] = '\0';
    return *this;
  }
  TextBuffer& decimal(unsigned long value) {
    char digits[24];
    std::size_t count = 0;
    do {
      digits[count++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    while (count > 0 && length_ + 1 < N) data_[length_++] = digits[--count];
    data_[length_] = '\0';
    return *this;
  }
  TextBuffer& octal(unsigned value) {
    char digits[12];
    std::size_t count = 0;
    do {
      digits[count++] = static_cast<char>('0' + (value & 7));
      value >>= 3;
    } while (value != 0);
    if (length_ + 1 < N) data_[length_++] = '0';
    while (count > 0 && length_ + 1 < N) data_[length_++] = digits[--count];
    data_[length_] = '\0';
    return *this;
  }
  const char* c_str() const { return data_; }
  std::size_t size() const { return length_; }

 private:
  char data_[N] = {};
  std::size_t length_ = 0;
};

}  // namespace nsbroker::sandbox
