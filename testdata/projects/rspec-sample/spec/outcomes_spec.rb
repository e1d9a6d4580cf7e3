FLAKY_COUNTER = "/tmp/flaky-sample-rspec"

RSpec.describe "Outcomes" do
  describe "pending and skipped" do
    it "is pending and fails as expected" do
      pending "known bug #12"
      expect(1).to eq(2)
    end

    it "is pending but passes" do
      pending "expected to fail"
      expect(1).to eq(1)
    end

    it "is pending via metadata", pending: "waiting for the API" do
      expect(1).to eq(2)
    end

    it "skips itself" do
      skip "no database here"
      expect(1).to eq(2)
    end

    xit "is disabled with xit" do
      expect(1).to eq(2)
    end

    it "is skipped via metadata", skip: "only runs on windows" do
      expect(1).to eq(2)
    end

    it "has no body"
  end

  describe "retries" do
    it "is flaky", retry: 3 do
      # Fails on the first attempt, passes on every later one.
      # The counter file must be deleted before each recording run.
      count = File.exist?(FLAKY_COUNTER) ? File.read(FLAKY_COUNTER).to_i : 0
      File.write(FLAKY_COUNTER, (count + 1).to_s)
      puts "flaky attempt #{count + 1}"
      expect(count).to be >= 1, "first attempt fails (attempt #{count + 1})"
    end

    it "always fails, even when retried", retry: 3 do
      expect("retried").to eq("passed")
    end
  end

  describe "with a failing before(:all)" do
    before(:all) do
      raise "before(:all) exploded"
    end

    it "never runs its body (1)" do
      expect(1).to eq(1)
    end

    it "never runs its body (2)" do
      expect(1).to eq(1)
    end
  end

  describe "with a failing after(:all)" do
    after(:all) do
      raise "after(:all) exploded"
    end

    it "passes before the hook fails" do
      expect(1).to eq(1)
    end
  end
end
