/// nft (libnftables) refused a command: its own error text, with the offending input and carets
/// as `nft` prints them.
public struct LibnftablesError: Error, Equatable, Sendable, CustomStringConvertible {
  /// What was attempted: `list ruleset`, `apply nft script`, `check nft script`.
  public var operation: String
  /// libnftables' error output, trimmed.
  public var message: String

  public init(operation: String, message: String) {
    self.operation = operation
    self.message = message
  }

  public var description: String { "nft cannot \(operation):\n\(message)" }
}
