RSpec.describe Calculator do
  let(:calc) { described_class.new }

  describe "#add" do
    it "adds two numbers" do
      expect(calc.add(2, 2)).to eq(4)
    end

    it "fails with a custom message" do
      expect(calc.add(2, 2)).to eq(5), "arithmetic is broken: expected 2 + 2 to be 5"
    end

    context "with negative numbers" do
      it "handles a negative operand" do
        expect(calc.add(-2, 1)).to eq(-1)
      end

      it "compares with a matcher diff" do
        expect([calc.add(1, 1), calc.add(2, 2)]).to eq([2, 5])
      end
    end

    it_behaves_like "a commutative operation", :add
  end

  describe "#divide" do
    it "divides" do
      expect(calc.divide(6, 3)).to eq(2)
    end

    it "raises an error that is not an expectation" do
      calc.divide(1, 0)
    end

    it "checks several things at once", :aggregate_failures do
      expect(calc.divide(6, 3)).to eq(3)
      expect(calc.divide(9, 3)).to eq(4)
    end
  end

  it "prints to stdout and stderr" do
    puts "hello from stdout"
    warn "hello from stderr"
    expect(true).to be(true)
  end
end
