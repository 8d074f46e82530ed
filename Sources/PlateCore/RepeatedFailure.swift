/// How loudly to report one more failure in a row of something retried until it works (a webhook or MQTT delivery,
/// a broker connection): a warning on the first and on every 20th, quiet in between, so that a long outage neither
/// floods the log nor goes unseen. One rule for every adapter that retries.
public enum RepeatedFailure {
    /// Whether consecutive failure number `failures` (1 for the first) deserves a warning rather than a debug line.
    public static func isLoud(_ failures: Int) -> Bool { failures == 1 || failures % 20 == 0 }
}
