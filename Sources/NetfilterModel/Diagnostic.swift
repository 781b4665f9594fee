/// A problem found in user input, reported as `file:line:col: error: message`.
public struct Diagnostic: Error, Hashable, Sendable, CustomStringConvertible {
  /// How bad a diagnostic is.
  public enum Severity: String, Sendable { case error, warning, note }

  /// A secondary location that explains the diagnostic (e.g. the earlier definition).
  public struct Note: Hashable, Sendable {
    public var message: String
    public var location: SourceLocation
    public init(_ message: String, at location: SourceLocation) {
      self.message = message
      self.location = location
    }
  }

  public var severity: Severity
  public var message: String
  public var location: SourceLocation
  public var notes: [Note]

  public init(
    _ severity: Severity = .error, _ message: String, at location: SourceLocation, notes: [Note] = []
  ) {
    self.severity = severity
    self.message = message
    self.location = location
    self.notes = notes
  }

  /// An error diagnostic.
  public static func error(_ message: String, at location: SourceLocation, notes: [Note] = [])
    -> Diagnostic
  {
    Diagnostic(.error, message, at: location, notes: notes)
  }

  /// The diagnostic and its notes, one per line, in the compiler format.
  public var description: String {
    var lines = ["\(location): \(severity.rawValue): \(message)"]
    for note in notes { lines.append("\(note.location): note: \(note.message)") }
    return lines.joined(separator: "\n")
  }

  // Diagnostics are equal when they say the same thing at the same place (locations included).
  public static func == (lhs: Diagnostic, rhs: Diagnostic) -> Bool {
    lhs.description == rhs.description
  }
  public func hash(into hasher: inout Hasher) { hasher.combine(description) }
}

/// A list of diagnostics thrown together: all errors of an input are reported, not the first.
public struct DiagnosticList: Error, Sendable, CustomStringConvertible {
  public var diagnostics: [Diagnostic]
  public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
  public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
  public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}
