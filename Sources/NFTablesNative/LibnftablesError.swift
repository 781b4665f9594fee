import NetfilterModel

/// nft (libnftables) refused a command: its own error text, with the place in the input and the
/// offending line as `nft` prints them, and, for a script compiled from a policy, where the policy
/// wrote what nft refused.
public struct LibnftablesError: Error, Equatable, Sendable, CustomStringConvertible {
  /// What was attempted: `list ruleset`, `apply nft script`, `check nft script`.
  public var operation: String
  /// libnftables' error output, trimmed: `nft script:7:3-22: Error: …`, the line, the carets.
  public var message: String
  /// The policy location of the rule (or its nft part) nft's first error names, when known.
  public var location: SourceLocation?

  public init(operation: String, message: String, location: SourceLocation? = nil) {
    self.operation = operation
    self.message = message
    self.location = location
  }

  /// nft's first error without its place: `syntax error, unexpected string, …`.
  public var summary: String {
    let first = message.prefix { $0 != "\n" }
    guard let range = first.range(of: "Error: ") else { return String(first) }
    return String(first[range.upperBound...])
  }

  public var description: String {
    let place = location.map { " (\($0))" } ?? ""
    return "nft cannot \(operation)\(place):\n\(message)"
  }

  public static func == (lhs: LibnftablesError, rhs: LibnftablesError) -> Bool {
    (lhs.operation, lhs.message, lhs.location?.description) == (rhs.operation, rhs.message, rhs.location?.description)
  }
}
