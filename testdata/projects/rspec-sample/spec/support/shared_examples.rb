RSpec.shared_examples "a commutative operation" do |op|
  it "gives the same result in both orders" do
    calc = Calculator.new
    expect(calc.public_send(op, 2, 3)).to eq(calc.public_send(op, 3, 2))
  end

  it "returns an Integer for Integer inputs" do
    expect(Calculator.new.public_send(op, 2, 3)).to be_a(Float)
  end
end
