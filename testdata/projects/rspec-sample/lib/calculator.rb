# A tiny class for the specs to exercise.
class Calculator
  def add(a, b)
    a + b
  end

  def divide(a, b)
    a / b
  end
end
