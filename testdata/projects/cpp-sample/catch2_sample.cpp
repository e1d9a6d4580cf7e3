// Catch2 sample for the recorded outputs in testdata/inputs/catch2/.
// Built twice: against Debian's Catch2 v2 (-DCATCH_CONFIG_MAIN) and against the
// Catch2 v3 amalgamated files (-DSAMPLE_CATCH2_V3). Only v3 has SKIP.
#ifdef SAMPLE_CATCH2_V3
#include "catch_amalgamated.hpp"
#else
#include <catch2/catch.hpp>
#endif

#include <iostream>
#include <stdexcept>
#include <vector>

#include "flaky.hpp"

static int add(int a, int b) { return a + b; }

TEST_CASE("passes", "[math]") { REQUIRE(add(1, 1) == 2); }

TEST_CASE("require fails", "[math][failing]") {
    INFO("info message before the REQUIRE");
    REQUIRE(add(2, 2) == 5);
    CHECK(false); // not reached
}

TEST_CASE("check failures continue", "[math][failing]") {
    int a = 1, b = 2;
    CAPTURE(a, b);
    CHECK(a == b);
    CHECK(a + b == 4);
    CHECK(a < b);
}

TEST_CASE("nested sections", "[sections]") {
    int x = 0;
    SECTION("outer A") {
        SECTION("inner 1") { CHECK(x == 0); }
        SECTION("inner 2") { CHECK(x == 1); }
    }
    SECTION("outer B") { REQUIRE(x == 0); }
}

TEST_CASE("expected to fail", "[!shouldfail]") { REQUIRE(add(1, 1) == 3); }

TEST_CASE("shouldfail but passes", "[!shouldfail]") { REQUIRE(add(1, 1) == 2); }

TEST_CASE("may fail and does", "[!mayfail]") { CHECK(add(1, 1) == 3); }

TEST_CASE("may fail but passes", "[!mayfail]") { CHECK(add(1, 1) == 2); }

TEST_CASE("hidden test", "[.][slow]") { FAIL("hidden tests do not run by default"); }

TEST_CASE("prints output", "[output]") {
    std::cout << "to stdout from a test" << std::endl;
    std::cerr << "to stderr from a test" << std::endl;
    WARN("a WARN message");
}

TEST_CASE("throws an exception", "[errors]") {
    throw std::runtime_error("unexpected exception from the test");
}

TEST_CASE("name with \"quotes\", <angle> & ampersand", "[names]") { CHECK(true); }

SCENARIO("vectors can be resized", "[bdd]") {
    GIVEN("a vector with 5 items") {
        std::vector<int> v(5);
        WHEN("it is resized to 10") {
            v.resize(10);
            THEN("the size is 10") { REQUIRE(v.size() == 10); }
        }
    }
}

TEMPLATE_TEST_CASE("seven halves is three", "[template]", int, double) {
    REQUIRE(TestType(7) / TestType(2) == TestType(3));
}

TEST_CASE("generated values", "[generate]") {
    int v = GENERATE(2, 4, 5);
    CAPTURE(v);
    CHECK(v % 2 == 0);
}

TEST_CASE("flaky", "[flaky]") {
    int n = next_attempt("/tmp/flaky-sample-catch2");
    std::cout << "flaky attempt " << n << std::endl;
    CHECK(n > 1);
}

#ifdef SAMPLE_CATCH2_V3
TEST_CASE("skipped at runtime", "[skip]") {
    SKIP("needs a GPU");
    FAIL("not reached");
}

TEST_CASE("skip in one section", "[skip][sections]") {
    SECTION("runs") { CHECK(true); }
    SECTION("skipped") { SKIP("section skipped: no network"); }
}
#endif
