// regexoracle answers, for each input line "PATTERN_HEX KEY_HEX", how the
// master's RemoveByRegex judges the key: std::regex(pattern,
// std::regex::ECMAScript) then std::regex_search(key, pattern), in the "C"
// locale. Output per line: "1" (match), "0" (no match), "E" (the pattern
// does not compile: the master answers INVALID_PARAMS) or "T" (libstdc++'s
// backtracking took over 2 s). An empty hex field is written as "-". Lines
// sharing a pattern must be consecutive; each pattern runs in a child
// process so a runaway search can be killed. Used by
// TestKeyRegexpAgainstLibstdcxx (opt-in).
#include <csignal>
#include <cstdio>
#include <iostream>
#include <regex>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

static std::string unhex(const std::string& h) {
  if (h == "-") return "";
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

static void judge(const std::string& pattern, const std::vector<std::string>& keys) {
  int fds[2];
  if (pipe(fds) != 0) return;
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    alarm(2);
    std::string out;
    try {
      std::regex re(unhex(pattern), std::regex::ECMAScript);
      for (const auto& k : keys) out += std::regex_search(unhex(k), re) ? '1' : '0';
    } catch (const std::regex_error&) {
      out.assign(keys.size(), 'E');
    }
    (void)!write(fds[1], out.data(), out.size());
    _exit(0);
  }
  close(fds[1]);
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) got.append(buf, n);
  close(fds[0]);
  int st;
  waitpid(pid, &st, 0);
  for (size_t i = 0; i < keys.size(); i++)
    std::cout << (got.size() == keys.size() ? got[i] : 'T') << '\n';
}

int main() {
  std::string ph, kh, cur;
  std::vector<std::string> keys;
  bool have = false;
  while (std::cin >> ph >> kh) {
    if (have && ph != cur) {
      judge(cur, keys);
      keys.clear();
    }
    cur = ph;
    have = true;
    keys.push_back(kh);
  }
  if (have) judge(cur, keys);
  return 0;
}
