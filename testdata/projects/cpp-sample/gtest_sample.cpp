// GoogleTest sample for the recorded outputs in testdata/inputs/gtest/.
#include <gtest/gtest.h>

#include <iostream>
#include <stdexcept>
#include <string>

#include "flaky.hpp"

static int add(int a, int b) { return a + b; }

TEST(Math, Passes) { EXPECT_EQ(add(2, 3), 5); }

TEST(Math, ExpectEqFails) {
    EXPECT_EQ(add(2, 2), 5);
    EXPECT_TRUE(add(1, 1) == 3) << "custom message: one plus one";
}

TEST(Math, AssertStops) {
    ASSERT_EQ(add(3, 3), 7) << "stops here";
    std::cout << "never printed" << std::endl;
}

TEST(Math, DISABLED_NotRun) { FAIL() << "disabled tests do not run"; }

TEST(DISABLED_Suite, NotRunEither) {}

TEST(Skips, GtestSkip) {
    GTEST_SKIP() << "needs a GPU";
    FAIL() << "not reached";
}

TEST(Output, PrintsAndRecordsProperty) {
    std::cout << "to stdout from a test" << std::endl;
    std::cerr << "to stderr from a test" << std::endl;
    RecordProperty("build_id", "1234");
    RecordProperty("attempt_count", 1);
}

TEST(Errors, ThrowsException) { throw std::runtime_error("unexpected exception from the test"); }

TEST(Errors, ScopedTrace) {
    for (int i = 0; i < 2; ++i) {
        SCOPED_TRACE("iteration " + std::to_string(i));
        EXPECT_LT(i, 1);
    }
}

class FixtureTest : public ::testing::Test {
  protected:
    void SetUp() override { value_ = 42; }
    int value_ = 0;
};

TEST_F(FixtureTest, UsesFixture) { EXPECT_EQ(value_, 42); }

class SkippingFixture : public ::testing::Test {
  protected:
    void SetUp() override { GTEST_SKIP() << "skipped in SetUp"; }
};

TEST_F(SkippingFixture, SkippedBySetUp) { FAIL() << "not reached"; }

class ParamTest : public ::testing::TestWithParam<int> {};

TEST_P(ParamTest, IsEven) { EXPECT_EQ(GetParam() % 2, 0) << "value " << GetParam(); }

INSTANTIATE_TEST_SUITE_P(Numbers, ParamTest, ::testing::Values(2, 4, 5));
INSTANTIATE_TEST_SUITE_P(Named, ParamTest, ::testing::Values(6, 7),
                         [](const ::testing::TestParamInfo<int>& info) {
                             return "value_" + std::to_string(info.param);
                         });

template <typename T>
class TypedTest : public ::testing::Test {};

using MyTypes = ::testing::Types<int, double>;
TYPED_TEST_SUITE(TypedTest, MyTypes);

TYPED_TEST(TypedTest, DefaultIsZero) { EXPECT_EQ(TypeParam(), TypeParam(0)); }

TYPED_TEST(TypedTest, HalfOfSevenIsThree) { EXPECT_EQ(TypeParam(7) / TypeParam(2), TypeParam(3)); }

TEST(Flaky, FailsFirstAttempt) {
    int n = next_attempt("/tmp/flaky-sample-gtest");
    std::cout << "flaky attempt " << n << std::endl;
    EXPECT_GT(n, 1) << "fails on the first attempt";
}
