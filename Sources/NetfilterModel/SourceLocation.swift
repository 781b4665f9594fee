/// Where an element of a policy came from: a file and a 1-based line and column.
///
/// Two locations always compare equal and hash alike: a rule is the same rule wherever it was
/// written, so model equality (`parse(fmt(p)) == parse(p)`, plan diffs) ignores positions.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
  /// The file as it was named to the tool (relative paths stay relative).
  public var file: String
  /// 1-based line.
  public var line: Int
  /// 1-based column, counted in bytes as editors and compilers do.
  public var column: Int

  public init(file: String, line: Int, column: Int) {
    self.file = file
    self.line = line
    self.column = column
  }

  /// A location for elements that did not come from a file (built in code, imported live).
  public static let unknown = SourceLocation(file: "", line: 0, column: 0)

  /// `file:line:col`, the form compilers and editors understand.
  public var description: String { "\(file):\(line):\(column)" }

  /// The last path component of `file` with the line: `lab.policy:17`, as compiled rules carry it.
  public var origin: String {
    let name = file.split(separator: "/").last.map(String.init) ?? file
    return "\(name):\(line)"
  }

  public static func == (lhs: SourceLocation, rhs: SourceLocation) -> Bool { true }
  public func hash(into hasher: inout Hasher) {}

  /// Orders by file, line, column (for sorting diagnostics).
  public func precedes(_ other: SourceLocation) -> Bool {
    (file, line, column) < (other.file, other.line, other.column)
  }
}
