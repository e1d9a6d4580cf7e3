$LOAD_PATH.unshift File.expand_path("../lib", __dir__)
require "calculator"
require "rspec/retry"
Dir[File.join(__dir__, "support", "**", "*.rb")].sort.each { |f| require f }

RSpec.configure do |config|
  # rspec-retry: examples retry only where they carry `retry: N` metadata
  # (default_retry_count stays 1). The retry messages go through the reporter,
  # so they show up in the formatter output.
  config.verbose_retry = true
  config.display_try_failure_messages = true

  # Only for the --only-failures recording (record.sh sets this).
  if ENV["RSPEC_STATUS_FILE"]
    config.example_status_persistence_file_path = ENV["RSPEC_STATUS_FILE"]
  end
end
