/// A small command-line parser: flags with and without values, positionals, `--` and `-h/--help`.
/// Errors are one line, for `firebreak: error: …` and exit status 2.
public struct Arguments {
  /// What a subcommand accepts.
  public struct Spec: Sendable {
    /// Flags that take a value (`--backend nft`, `--backend=nft`, `-o FILE`).
    public var valued: Set<String>
    /// Flags without a value (`--check`).
    public var switches: Set<String>
    /// Fewest and most positionals (`nil` = no limit).
    public var positionals: ClosedRange<Int>
    public var positionalName: String
    public init(
      valued: Set<String> = [], switches: Set<String> = [], positionals: ClosedRange<Int>, positionalName: String
    ) {
      self.valued = valued
      self.switches = switches
      self.positionals = positionals
      self.positionalName = positionalName
    }
  }

  /// A usage error, printed as one line.
  public struct UsageError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
  }

  public var values: [String: String] = [:]
  public var switches: Set<String> = []
  public var positionals: [String] = []
  public var wantsHelp = false

  /// Parses `args` (without the program and subcommand names) against `spec`.
  public init(_ args: [String], spec: Spec) throws {
    var i = 0
    var onlyPositionals = false
    while i < args.count {
      let arg = args[i]
      i += 1
      if onlyPositionals || !arg.hasPrefix("-") || arg == "-" {
        positionals.append(arg)
        continue
      }
      if arg == "--" {
        onlyPositionals = true
        continue
      }
      if arg == "-h" || arg == "--help" {
        wantsHelp = true
        continue
      }
      var name = arg
      var inlineValue: String?
      if let eq = arg.firstIndex(of: "="), arg.hasPrefix("--") {
        name = String(arg[..<eq])
        inlineValue = String(arg[arg.index(after: eq)...])
      }
      if spec.valued.contains(name) {
        if let inlineValue {
          values[name] = inlineValue
        } else {
          guard i < args.count else { throw UsageError(message: "option \(name) needs a value") }
          values[name] = args[i]
          i += 1
        }
      } else if spec.switches.contains(name) {
        if inlineValue != nil { throw UsageError(message: "option \(name) takes no value") }
        switches.insert(name)
      } else {
        throw UsageError(message: "unknown option \(name)")
      }
    }
    if wantsHelp { return }
    if positionals.count < spec.positionals.lowerBound {
      throw UsageError(message: "missing \(spec.positionalName)")
    }
    if positionals.count > spec.positionals.upperBound {
      throw UsageError(message: "unexpected argument '\(positionals[spec.positionals.upperBound])'")
    }
  }

  /// The value of `flag`, checked against the allowed choices.
  public func choice(_ flag: String, of choices: [String], default value: String) throws -> String {
    let v = values[flag] ?? value
    guard choices.contains(v) else {
      throw UsageError(message: "\(flag) must be one of \(choices.joined(separator: ", ")), not '\(v)'")
    }
    return v
  }
}
