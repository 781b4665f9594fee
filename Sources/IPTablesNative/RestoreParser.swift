import Foundation
import NetfilterModel

/// Reads `iptables-restore` text — what `IPTablesCompiler` emits, with the extensions of
/// `IPTMatch` and `IPTTarget` in the iptables parts a policy keeps verbatim — into tables.
///
/// Equivalent to the reading half of `iptables-restore`: `*table`, `:CHAIN POLICY [p:b]`,
/// `-A CHAIN …` and `COMMIT` lines; `#` lines are comments.
struct RestoreParser {
  var family: IPTFamily

  /// One `--option ARG [ARG]` of a match or target, with the `!` before it.
  struct Option {
    var name: String
    var argument: String
    /// The second argument (`--tcp-flags MASK COMP`).
    var second: String?
    var negated: Bool
  }

  /// Where an error is: the line number and its text.
  struct Place {
    var line: Int
    var text: String

    func error(_ reason: String) -> IPTablesNativeError {
      .unsupported(line: line, text: text, reason: reason)
    }
  }

  func parse(_ text: String) throws(IPTablesNativeError) -> [IPTTable] {
    var tables: [IPTTable] = []
    // The open table, mutated in place: copying it per line would make parsing quadratic.
    var current: IPTTable?
    for (index, line) in RestoreParser.lines(text).enumerated() {
      let place = Place(line: index + 1, text: line)
      if line.isEmpty || line.hasPrefix("#") { continue }
      if line.hasPrefix("*") {
        guard current == nil else { throw place.error("table opened before COMMIT") }
        let name = String(line.dropFirst())
        guard IPTTableID.names.contains(name) else { throw place.error("unknown table") }
        current = IPTTable(family: family, name: name, chains: [], rules: [], line: place.line)
        continue
      }
      guard current != nil else { throw place.error("line outside a *table … COMMIT block") }
      if line == "COMMIT" {
        tables.append(current!)
        current = nil
      } else if line.hasPrefix(":") {
        current!.chains.append(try chain(line, place))
      } else {
        current!.rules.append(try rule(tokens(line, place), place))
      }
    }
    if let current { throw Place(line: current.line, text: "*" + current.name).error("table without COMMIT") }
    return tables
  }

  /// The lines of a text without leading and trailing blanks (space, tab, CR). Bytes, not
  /// Characters: grapheme breaking dominated the time of large rulesets.
  static func lines(_ text: String) -> [String] {
    var text = text
    return text.withUTF8 { bytes in
      var lines: [String] = []
      var start = 0
      func blank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }
      while start <= bytes.count {
        var end = start
        while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
        var (first, last) = (start, end)
        while first < last && blank(bytes[first]) { first += 1 }
        while last > first && blank(bytes[last - 1]) { last -= 1 }
        lines.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[first..<last]), as: UTF8.self))
        start = end + 1
      }
      return lines
    }
  }

  /// `-p` operands: names from /etc/protocols (as iptables-save prints them), `icmpv6`, `all`.
  static let protocolNumbers: [String: UInt8] = Dictionary(
    ProtocolNames.ipProtocols + [("icmpv6", 58), ("all", 0)], uniquingKeysWith: { first, _ in first })

  /// `:INPUT DROP [0:0]` or `:sub - [0:0]`.
  func chain(_ line: String, _ place: Place) throws(IPTablesNativeError) -> IPTChain {
    let parts = line.dropFirst().split(separator: " ").map(String.init)
    guard parts.count >= 2, parts.count <= 3 else { throw place.error("malformed chain line") }
    switch parts[1] {
    case "-": return IPTChain(name: parts[0], policy: nil)
    case "ACCEPT", "DROP": return IPTChain(name: parts[0], policy: parts[1])
    default: throw place.error("unsupported policy \(parts[1])")
    }
  }

  /// Splits a rule line into arguments as `iptables-restore` does: whitespace separates, double
  /// quotes group, and a backslash inside quotes takes the next character literally.
  func tokens(_ line: String, _ place: Place) throws(IPTablesNativeError) -> [String] {
    var line = line
    var unterminated = false
    let tokens = line.withUTF8 { bytes -> [String] in
      var result: [String] = []
      var i = 0
      while i < bytes.count {
        if bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\t") {
          i += 1
          continue
        }
        // A plain token is a slice; only quotes and escapes need a copy.
        let start = i
        while i < bytes.count && bytes[i] != UInt8(ascii: " ") && bytes[i] != UInt8(ascii: "\t")
          && bytes[i] != UInt8(ascii: "\"")
        {
          i += 1
        }
        if i == bytes.count || bytes[i] != UInt8(ascii: "\"") {
          result.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self))
          continue
        }
        var token = Array(bytes[start..<i])
        var quoted = false
        while i < bytes.count {
          let c = bytes[i]
          if quoted {
            if c == UInt8(ascii: "\\") && i + 1 < bytes.count {
              i += 1
              token.append(bytes[i])
            } else if c == UInt8(ascii: "\"") {
              quoted = false
            } else {
              token.append(c)
            }
          } else if c == UInt8(ascii: "\"") {
            quoted = true
          } else if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") {
            break
          } else {
            token.append(c)
          }
          i += 1
        }
        unterminated = unterminated || quoted
        result.append(String(decoding: token, as: UTF8.self))
      }
      return result
    }
    guard !unterminated else { throw place.error("unterminated quote") }
    return tokens
  }

  /// `-A CHAIN [! -s A] … [-m NAME --opt …]… [-j TARGET --opt …|-g CHAIN]`.
  func rule(_ tokens: [String], _ place: Place) throws(IPTablesNativeError) -> IPTRule {
    guard tokens.count >= 2, tokens[0] == "-A" else { throw place.error("only -A rules are supported") }
    var rule = IPTRule(chain: tokens[1], target: .fallThrough, line: place.line)
    var index = 2
    var negated = false
    var sawTarget = false
    func next() throws(IPTablesNativeError) -> String {
      index += 1
      guard index < tokens.count else { throw place.error("\(tokens[index - 1]) needs an argument") }
      return tokens[index]
    }
    while index < tokens.count {
      let token = tokens[index]
      if token == "!" {
        negated = true
        index += 1
        continue
      }
      guard !sawTarget else { throw place.error("unexpected \(token) after the target") }
      switch token {
      case "-s": rule.header.source = IPTNegatable(try prefix(try next(), place), negated: negated)
      case "-d": rule.header.destination = IPTNegatable(try prefix(try next(), place), negated: negated)
      case "-i": rule.header.inInterface = IPTNegatable(try interface(try next(), place), negated: negated)
      case "-o": rule.header.outInterface = IPTNegatable(try interface(try next(), place), negated: negated)
      case "-p":
        let name = try next()
        guard let number = RestoreParser.protocolNumbers[name] ?? UInt8(name) else {
          throw place.error("unknown protocol \(name)")
        }
        rule.header.proto = IPTNegatable(number, negated: negated)
      case "-m", "-j", "-g":
        guard !negated else { throw place.error("! before \(token)") }
        let name = try next()
        index += 1
        let options = try self.options(tokens, &index, place, extension: name)
        if token == "-m" {
          rule.matches.append(try match(name, options, place))
        } else {
          rule.target = try token == "-g" ? goto(name, options, place) : target(name, options, place)
          sawTarget = true
        }
        continue
      default:
        throw place.error("unsupported option \(token)")
      }
      negated = false
      index += 1
    }
    guard !negated else { throw place.error("dangling !") }
    return rule
  }

  /// Options that take no argument, by extension.
  static let flagOptions: [String: Set<String>] = [
    "owner": ["--socket-exists", "--suppl-groups"],
    "physdev": ["--physdev-is-in", "--physdev-is-out", "--physdev-is-bridged"],
    "addrtype": ["--limit-iface-in", "--limit-iface-out"],
    "recent": ["--set", "--rcheck", "--update", "--remove", "--rsource", "--rdest", "--reap", "--rttl"],
    "LOG": ["--log-tcp-sequence", "--log-tcp-options", "--log-ip-options", "--log-uid", "--log-macdecode"],
    "CONNMARK": ["--save-mark", "--restore-mark"],
    "CT": ["--notrack"],
    "TCPMSS": ["--clamp-mss-to-pmtu"],
    "NFQUEUE": ["--queue-bypass", "--queue-cpu-fanout"],
    "hashlimit": ["--hashlimit-rate-match"],
  ]

  /// The `[!] --option [ARG…]` run that follows `-m NAME` or `-j NAME`; how many arguments an
  /// option takes depends on the extension.
  func options(_ tokens: [String], _ index: inout Int, _ place: Place, extension name: String)
    throws(IPTablesNativeError) -> [Option]
  {
    let flags = RestoreParser.flagOptions[name] ?? []
    var options: [Option] = []
    while index < tokens.count {
      var negated = false
      var at = index
      if tokens[at] == "!" {
        guard at + 1 < tokens.count, tokens[at + 1].hasPrefix("--") else { break }
        negated = true
        at += 1
      }
      guard tokens[at].hasPrefix("--") else { break }
      let arity = flags.contains(tokens[at]) ? 0 : tokens[at] == "--tcp-flags" ? 2 : 1
      guard at + arity < tokens.count else { throw place.error("\(tokens[at]) needs \(arity) argument(s)") }
      options.append(
        Option(
          name: tokens[at], argument: arity > 0 ? tokens[at + 1] : "", second: arity == 2 ? tokens[at + 2] : nil,
          negated: negated))
      index = at + arity + 1
    }
    return options
  }

  func goto(_ chain: String, _ options: [Option], _ place: Place) throws(IPTablesNativeError) -> IPTTarget {
    guard options.isEmpty else { throw place.error("-g takes no options") }
    return .goto(chain)
  }
}
