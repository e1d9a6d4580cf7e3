// Attempt counter for the flaky tests: the recording deletes the file before each run,
// so the first attempt sees 1.
#pragma once
#include <fstream>
#include <string>

inline int next_attempt(const std::string& path) {
    int n = 0;
    {
        std::ifstream in(path);
        if (in) in >> n;
    }
    ++n;
    std::ofstream(path) << n;
    return n;
}
