package sample;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import org.testng.Assert;
import org.testng.IRetryAnalyzer;
import org.testng.ITestResult;
import org.testng.SkipException;
import org.testng.annotations.DataProvider;
import org.testng.annotations.Test;

/** A sample for recording TestNG's JUnit reports: data providers, a retry, a skip. */
public class CalculatorTest {
    /** Retries a failed test once. */
    public static class RetryOnce implements IRetryAnalyzer {
        private int count = 0;

        @Override
        public boolean retry(ITestResult result) {
            return count++ < 1;
        }
    }

    @DataProvider(name = "sums")
    public Object[][] sums() {
        return new Object[][] {{1, 2, 3}, {2, 2, 4}, {2, 3, 6}, {5, 5, 10}};
    }

    /** Four rows, the third wrong: one row fails every run, the others pass. */
    @Test(dataProvider = "sums")
    public void addition(int a, int b, int sum) {
        Assert.assertEquals(a + b, sum);
    }

    @DataProvider(name = "words")
    public Object[][] words() {
        return new Object[][] {{"alpha"}, {"beta"}, {"gamma"}};
    }

    /** Three rows, all passing. */
    @Test(dataProvider = "words")
    public void nonEmpty(String word) {
        Assert.assertFalse(word.isEmpty());
    }

    /** Fails the first time in a fresh directory, passes when retried. */
    @Test(retryAnalyzer = RetryOnce.class)
    public void flaky() throws Exception {
        Path marker = Paths.get(System.getProperty("java.io.tmpdir"), "flaky-sample-testng");
        if (!Files.exists(marker)) {
            Files.createFile(marker);
            Assert.fail("first attempt fails");
        }
    }

    /** Fails every time, retried once. */
    @Test(retryAnalyzer = RetryOnce.class)
    public void broken() {
        Assert.assertEquals("actual", "expected");
    }

    @Test
    public void passes() {
        Assert.assertTrue(true);
    }

    @Test
    public void skipped() {
        throw new SkipException("not on this platform");
    }
}
