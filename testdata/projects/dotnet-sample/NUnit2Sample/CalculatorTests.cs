// NUnit 2.6 sample tests, built with Mono's mcs and run with Debian's nunit-console 2.6.4.
// See testdata/inputs/nunit/RECORD.md for what each test is meant to exercise.
using System;
using System.IO;
using NUnit.Framework;

namespace DotnetSample.NUnit2
{
    [TestFixture]
    public class CalculatorTests
    {
        [Test]
        public void Passes()
        {
            Assert.AreEqual(4, 2 + 2);
        }

        [Test]
        public void FailsWithMessage()
        {
            Assert.AreEqual(5, 2 * 2, "arithmetic is broken");
        }

        [Test]
        public void ThrowsException()
        {
            throw new InvalidOperationException("boom from the test body");
        }

        [Test]
        [Ignore("not implemented yet")]
        public void IgnoredByAttribute()
        {
        }

        [Test]
        public void IgnoredAtRuntime()
        {
            Assert.Ignore("ignored from inside the test");
        }

        [Test]
        public void Inconclusive()
        {
            Assert.Inconclusive("cannot decide without a database");
        }

        [Test]
        [Explicit("runs only when named")]
        public void ExplicitTest()
        {
        }

        [TestCase(1, 2, 3)]
        [TestCase(2, 2, 4)]
        [TestCase(3, 3, 7)]
        public void Add(int a, int b, int expected)
        {
            Assert.AreEqual(expected, a + b);
        }

        [TestCase("a.b", TestName = "Named case")]
        [TestCase("c::d")]
        public void OddArguments(string s)
        {
            Assert.IsNotEmpty(s);
        }

        [Test]
        [Category("slow")]
        [Description("a test with a category, a description and a property")]
        [Property("owner", "qa-team")]
        public void WithCategoryAndProperty()
        {
            Assert.Pass("passed with a message");
        }

        [Test]
        public void WritesOutput()
        {
            Console.WriteLine("hello from stdout");
            Console.Error.WriteLine("hello from stderr");
        }

        [Test]
        public void Flaky()
        {
            // Fails the first time it runs after /tmp/flaky-sample-nunit2 was deleted, then passes.
            const string counter = "/tmp/flaky-sample-nunit2";
            int attempt = File.Exists(counter) ? int.Parse(File.ReadAllText(counter)) + 1 : 1;
            File.WriteAllText(counter, attempt.ToString());
            Console.WriteLine("flaky attempt " + attempt);
            Assert.That(attempt, Is.GreaterThan(1), "first attempt always fails");
        }

        [TestFixture]
        public class Nested
        {
            [Test]
            public void NestedPasses()
            {
                Assert.IsTrue(true);
            }
        }
    }

    [TestFixture]
    public class BrokenFixtureSetUp
    {
        [TestFixtureSetUp]
        public void Init()
        {
            throw new InvalidOperationException("fixture setup exploded");
        }

        [Test]
        public void NeverRuns()
        {
        }
    }

    [TestFixture]
    public class BrokenSetUp
    {
        [SetUp]
        public void Init()
        {
            throw new InvalidOperationException("setup exploded");
        }

        [Test]
        public void SetUpFails()
        {
        }
    }
}
