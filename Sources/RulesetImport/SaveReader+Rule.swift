import NetfilterModel

/// One option of a match module or target: `! --dport 22`, `--tcp-flags SYN,ACK SYN`.
struct SaveOption {
  var name: String
  var negated: Bool
  var values: [SaveToken]
  var token: SaveToken
  var value: String { values.first?.text ?? "" }
}

/// A `-m NAME` or `-j NAME` with its options and where it is written in the line.
struct SaveExtension {
  var name: String
  var options: [SaveOption]
  /// The `-m`/`-j`/`-g` token.
  var token: SaveToken
  /// Byte range of the whole extension in the line.
  var start: Int
  var end: Int
}

extension SaveReader {
  static let basicOptions: [String: String] = [
    "-s": "-s", "--source": "-s", "--src": "-s", "-d": "-d", "--destination": "-d", "--dst": "-d",
    "-p": "-p", "--protocol": "-p", "-i": "-i", "--in-interface": "-i", "-o": "-o", "--out-interface": "-o",
    "-f": "-f", "--fragment": "-f", "-m": "-m", "--match": "-m", "-j": "-j", "--jump": "-j", "-g": "-g",
    "--goto": "-g", "-c": "-c", "--set-counters": "-c",
  ]

  /// True when `tokens[i]` starts a new part of the rule (a basic option, `-m`, `-j`, `-g`,
  /// possibly after `!`).
  func startsPart(_ tokens: [SaveToken], _ i: Int) -> Bool {
    guard i < tokens.count else { return true }
    if tokens[i].isBang { return i + 1 < tokens.count && startsPart(tokens, i + 1) && !tokens[i + 1].isBang }
    return !tokens[i].quoted && Self.basicOptions[tokens[i].text] != nil
  }

  /// Reads the options after `-m NAME` / `-j NAME` up to the next part of the rule.
  func readExtension(_ tokens: [SaveToken], _ i: inout Int, head: SaveToken) -> SaveExtension {
    let nameToken = tokens[i]
    i += 1
    return readOptions(
      tokens, &i, SaveExtension(name: nameToken.text, options: [], token: head, start: head.start, end: nameToken.end))
  }

  /// Reads an extension's options, from `i` up to the next part of the rule.
  func readOptions(_ tokens: [SaveToken], _ i: inout Int, _ start: SaveExtension) -> SaveExtension {
    var ext = start
    while i < tokens.count && !startsPart(tokens, i) {
      var negated = false
      if tokens[i].isBang {
        negated = true
        i += 1
        guard i < tokens.count else { break }
      }
      let optionToken = tokens[i]
      i += 1
      var option = SaveOption(name: optionToken.text, negated: negated, values: [], token: optionToken)
      // Old syntax: `--dport ! 22`.
      if i + 1 < tokens.count && tokens[i].isBang && !tokens[i + 1].isOption {
        option.negated = true
        i += 1
      }
      while i < tokens.count && !tokens[i].isOption && !tokens[i].isBang && !startsPart(tokens, i) {
        option.values.append(tokens[i])
        i += 1
      }
      ext.end = tokens[i - 1].end
      ext.options.append(option)
    }
    return ext
  }

  /// `-A CHAIN …`: one rule appended to the chain.
  mutating func readRule(_ tokens: [SaveToken]) {
    guard tokens.count >= 2 else {
      error("'-A' needs a chain name", tokens[0].column)
      return
    }
    let chainName = tokens[1].text
    guard let chainIndex = table?.chains.firstIndex(where: { $0.name == chainName }) else {
      error("chain '\(chainName)' is not declared in table \(table?.name ?? "")", tokens[1].column)
      return
    }
    var rule = Rule(location: location(tokens[0].column))
    var proto: UInt8? = nil
    var failed = false
    var i = 2
    while i < tokens.count {
      var negated = false
      var bang: SaveToken? = nil
      if tokens[i].isBang {
        negated = true
        bang = tokens[i]
        i += 1
        guard i < tokens.count else {
          error("'!' at the end of the rule negates nothing", bang!.column)
          failed = true
          break
        }
      }
      let token = tokens[i]
      // `-p tcp --dport 22`: iptables loads the protocol's match implicitly.
      if Self.basicOptions[token.text] == nil, token.isOption, let proto, let module = Self.implicitModules[proto] {
        if bang != nil { i -= 1 }
        let ext = readOptions(
          tokens, &i,
          SaveExtension(name: module, options: [], token: bang ?? token, start: (bang ?? token).start, end: token.start)
        )
        readMatch(ext, proto: proto, into: &rule, implicit: true)
        continue
      }
      guard let option = token.quoted ? nil : Self.basicOptions[token.text] else {
        error("unknown option '\(token.text)'", token.column)
        failed = true
        break
      }
      i += 1
      let at = location((bang ?? token).column)
      // Old syntax: `-d ! 10.0.0.0/8`.
      if option != "-f" && option != "-m" && option != "-j" && option != "-g", i + 1 < tokens.count, tokens[i].isBang {
        negated = true
        i += 1
      }
      func value() -> SaveToken? {
        guard i < tokens.count else { return nil }
        i += 1
        return tokens[i - 1]
      }
      switch option {
      case "-s", "-d":
        guard let v = value() else {
          error("'\(token.text)' needs an address", token.column)
          failed = true
          break
        }
        guard let element = address(v) else {
          failed = true
          break
        }
        rule.matches.append(
          Match(
            .address(element.version, option == "-s" ? .source : .destination, .single(element)), negated: negated,
            location: at))
      case "-p":
        guard let v = value() else {
          error("'-p' needs a protocol", token.column)
          failed = true
          break
        }
        let name = v.text.lowercased()
        if name == "all" || name == "0" {
          if negated {
            rule.matches.append(Match(.opaque(OpaqueMatch(module: "protocol", text: "! -p all")), location: at))
          }
          break
        }
        guard let number = ProtocolNames.protocolNumber(name) ?? Self.protocolAliases[name] else {
          error("unknown protocol '\(v.text)'", v.column)
          failed = true
          break
        }
        if !negated { proto = number }
        rule.matches.append(Match(.l4proto(.metaL4proto, .single(number)), negated: negated, location: at))
      case "-i", "-o":
        guard let v = value() else {
          error("'\(token.text)' needs an interface name", token.column)
          failed = true
          break
        }
        let pattern =
          v.text.hasSuffix("+")
          ? InterfacePattern(name: String(v.text.dropLast()), isWildcard: true) : InterfacePattern(name: v.text)
        rule.matches.append(
          Match(.interface(option == "-i" ? .input : .output, .single(pattern)), negated: negated, location: at))
      case "-f":
        rule.matches.append(
          Match(.opaque(OpaqueMatch(module: "fragment", text: negated ? "! -f" : "-f")), location: at))
        warn(
          "the fragment test (-f) is not modelled: kept as written; packets reaching this rule get verdict unknown",
          at.column)
      case "-c":
        i += 2  // counters: ignored
      case "-m":
        guard i < tokens.count else {
          error("'-m' needs a module name", token.column)
          failed = true
          break
        }
        let ext = readExtension(tokens, &i, head: token)
        readMatch(ext, proto: proto, into: &rule)
      default:  // -j, -g
        guard i < tokens.count else {
          error("'\(token.text)' needs a target", token.column)
          failed = true
          break
        }
        if rule.verdict != nil || !rule.statements.isEmpty {
          error("a rule has one target", token.column)
          failed = true
          break
        }
        let ext = readExtension(tokens, &i, head: token)
        failed = !readTarget(ext, isGoto: option == "-g", into: &rule)
      }
      if failed { break }
    }
    if failed { return }
    if rule.matches.isEmpty && rule.verdict == nil && rule.statements.isEmpty {
      // `-A CHAIN` alone only counts packets (every iptables rule counts): nft says `counter`, and
      // the iptables backend writes a counter back as the bare rule.
      rule.statements.append(Statement(.counter, location: rule.location))
    }
    table!.chains[chainIndex].rules.append(rule)
  }

  /// The match `iptables` loads for options after `-p NAME` without `-m NAME`.
  static let implicitModules: [UInt8: String] = [6: "tcp", 17: "udp", 1: "icmp", 58: "icmp6"]

  static let protocolAliases: [String: UInt8] = ["icmp6": 58, "ipv6-icmp": 58, "icmpv6": 58]

  /// `10.0.0.0/8`, `10.0.0.0/255.0.0.0`, `1.2.3.4` (a single address), `2001:db8::/32`.
  mutating func address(_ token: SaveToken) -> AddressElement? {
    let parts = token.text.split(separator: "/", maxSplits: 1).map(String.init)
    guard let first = parts.first, let address = IPAddress(first) else {
      error("'\(token.text)' is not an IP address (host names are not resolved)", token.column)
      return nil
    }
    if address.version != version {
      error(
        "'\(token.text)' is an \(address.version == .v4 ? "IPv4" : "IPv6") address in an \(version == .v4 ? "IPv4" : "IPv6") dump",
        token.column)
      return nil
    }
    var length = address.bitWidth
    if parts.count == 2 {
      if let n = Int(parts[1]), n >= 0, n <= address.bitWidth {
        length = n
      } else if let mask = IPAddress(parts[1]), mask.version == address.version,
        let n = Self.prefixLength(ofMask: mask)
      {
        length = n
      } else {
        error("'\(parts[1])' is not a prefix length or a contiguous netmask", token.column + first.utf8.count + 1)
        return nil
      }
    }
    return .prefix(IPPrefix(address: address.masked(to: length), length: length))
  }

  /// The prefix length of a dotted netmask (`255.255.255.0` → 24), nil when not contiguous.
  static func prefixLength(ofMask mask: IPAddress) -> Int? {
    for length in 0...mask.bitWidth where mask == IPAddress.allOnes(mask.version).masked(to: length) {
      return length
    }
    return nil
  }
}

extension IPAddress {
  /// 255.255.255.255 or ffff:…:ffff.
  static func allOnes(_ version: IPVersion) -> IPAddress {
    version == .v4 ? .v4(UInt32.max) : .v6(UInt64.max, UInt64.max)
  }
}
