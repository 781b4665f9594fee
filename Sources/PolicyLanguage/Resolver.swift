import NetfilterModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Reads policy files from somewhere: the disk in the CLI, a dictionary in tests.
public protocol PolicySource {
  /// The text of `path`, or nil when it cannot be read.
  func read(_ path: String) -> String?
}

/// Gives a policy's syntax its meaning: expands `define`s and `include`s, builds the topology and
/// firewalls of the model, and collects every error with its location.
public struct Resolver {
  struct Define {
    var tokens: [Token]
    var location: SourceLocation
  }

  let source: any PolicySource
  var diagnostics: [Diagnostic] = []
  var defines: [String: Define] = [:]
  var includeStack: [String] = []
  var topology: Topology?
  var topologyLocation: SourceLocation?
  var firewalls: [Firewall] = []
  /// Where each table/chain/set/firewall was first declared, for duplicate notes.
  var firewallLocations: [String: SourceLocation] = [:]

  public init(source: any PolicySource) {
    self.source = source
  }

  /// Loads `path` (and what it includes) into a policy, or the diagnostics that prevent it.
  public mutating func resolve(path: String) -> (Policy?, [Diagnostic]) {
    guard let text = source.read(path) else {
      return (nil, [.error("cannot read policy file", at: SourceLocation(file: path, line: 1, column: 1))])
    }
    return resolve(path: path, text: text)
  }

  /// Resolves `text` as if read from `path`.
  public mutating func resolve(path: String, text: String) -> (Policy?, [Diagnostic]) {
    includeStack = [path]
    let (syntax, layoutDiagnostics) = LayoutParser.parse(file: path, text: text)
    diagnostics += layoutDiagnostics
    process(syntax.nodes, file: path)
    var policy = Policy(topology: topology, firewalls: firewalls)
    if let topology {
      diagnostics += TopologyValidator(topology: topology).validate()
      for fw in policy.firewalls where !topology.namespaces.contains(where: { $0.name == fw.namespace }) {
        diagnostics.append(
          .error(
            "firewall for namespace '\(fw.namespace)', which the topology does not declare",
            at: fw.location))
      }
    }
    for fw in policy.firewalls {
      diagnostics += RulesetValidator(ruleset: fw.ruleset).validate()
    }
    policy.firewalls.sort { $0.location.precedes($1.location) }
    let sorted = diagnostics.enumerated().sorted { a, b in
      if a.element.location.precedes(b.element.location) { return true }
      if b.element.location.precedes(a.element.location) { return false }
      return a.offset < b.offset
    }.map(\.element)
    let hasErrors = sorted.contains { $0.severity == .error }
    return (hasErrors ? nil : policy, sorted)
  }

  // MARK: Top level

  mutating func process(_ nodes: [SyntaxNode], file: String) {
    for node in nodes {
      switch node {
      case .line(let line):
        processTopLine(line, file: file)
      case .block(let block):
        let keyword = block.header[0]
        switch keyword.text {
        case "topology":
          processTopology(block)
        case "firewall":
          processFirewall(block)
        case "table":
          if let table = processTable(block) {
            addTable(table, namespace: Firewall.defaultNamespace, at: block.header[0].location)
          }
        default:
          diagnostics.append(.error("'\(keyword.text)' block is not allowed at the top level", at: keyword.location))
        }
      }
    }
  }

  mutating func processTopLine(_ line: SyntaxLine, file: String) {
    let first = line.tokens[0]
    var cursor = TokenCursor(line.tokens)
    _ = cursor.next()
    do {
      switch first.kind == .word ? first.text : "" {
      case "define":
        let name = try cursor.expectWord("a name after 'define'")
        guard cursor.accept(punct: "=") else {
          throw Diagnostic.error(
            "expected '=' after 'define \(name.text)'\(cursor.foundDescription)", at: cursor.location)
        }
        let value = Array(line.tokens[cursor.index...])
        if value.isEmpty { throw Diagnostic.error("expected a value after '='", at: cursor.location) }
        if let earlier = defines[name.text] {
          throw Diagnostic.error(
            "'\(name.text)' is already defined", at: name.location,
            notes: [.init("previous definition is here", at: earlier.location)])
        }
        defines[name.text] = Define(tokens: value, location: name.location)
      case "include":
        let pathToken = try cursor.expectName("a quoted file name after 'include'")
        if let extra = cursor.peek { throw Diagnostic.error("unexpected '\(extra)' after include", at: extra.location) }
        include(pathToken, from: file)
      default:
        throw Diagnostic.error(
          "expected define, include, topology, firewall or table at the top level, found '\(first)'",
          at: first.location)
      }
    } catch let d as Diagnostic {
      diagnostics.append(d)
    } catch {}
  }

  mutating func include(_ pathToken: Token, from file: String) {
    var path = pathToken.text
    if !path.hasPrefix("/"), let slash = file.lastIndex(of: "/") {
      path = String(file[...slash]) + path
    }
    if includeStack.contains(path) {
      diagnostics.append(.error("include cycle: '\(pathToken.text)' is already being included", at: pathToken.location))
      return
    }
    guard let text = source.read(path) else {
      diagnostics.append(.error("cannot read included file '\(path)'", at: pathToken.location))
      return
    }
    includeStack.append(path)
    let (syntax, layoutDiagnostics) = LayoutParser.parse(file: path, text: text)
    diagnostics += layoutDiagnostics
    process(syntax.nodes, file: path)
    includeStack.removeLast()
  }

  /// Replaces `$NAME` tokens with their definitions (recursively), reporting undefined names.
  func expand(_ tokens: [Token], stack: [String] = []) throws -> [Token] {
    var out: [Token] = []
    for t in tokens {
      guard t.kind == .variable, !t.text.isEmpty else {
        if t.kind != .variable { out.append(t) }
        continue
      }
      guard let define = defines[t.text] else {
        throw Diagnostic.error("undefined variable '$\(t.text)'", at: t.location)
      }
      if stack.contains(t.text) {
        throw Diagnostic.error("'$\(t.text)' is defined in terms of itself", at: t.location)
      }
      // Expanded tokens take the use site's location: an error in the value is reported where
      // the value is used.
      out += try expand(define.tokens, stack: stack + [t.text]).map { token in
        var moved = token
        moved.location = t.location
        return moved
      }
    }
    return out
  }

  mutating func addTable(_ table: Table, namespace: String, at location: SourceLocation) {
    if let i = firewalls.firstIndex(where: { $0.namespace == namespace }) {
      if let earlier = firewalls[i].ruleset.table(table.family, table.name) {
        diagnostics.append(
          .error(
            "table \(table.family.rawValue) \(table.name) is already declared for namespace '\(namespace)'",
            at: table.location, notes: [.init("previous declaration is here", at: earlier.location)]))
        return
      }
      firewalls[i].ruleset.tables.append(table)
    } else {
      firewalls.append(Firewall(namespace: namespace, ruleset: Ruleset(tables: [table]), location: location))
    }
  }

  // MARK: firewall NAMESPACE { … }

  mutating func processFirewall(_ block: SyntaxBlock) {
    var cursor = TokenCursor(block.header)
    _ = cursor.next()
    guard let name = try? cursor.expectName("a namespace name after 'firewall'") else {
      diagnostics.append(.error("expected a namespace name after 'firewall'", at: cursor.location))
      return
    }
    if let extra = cursor.peek {
      diagnostics.append(.error("unexpected '\(extra)' in firewall header", at: extra.location))
    }
    if let earlier = firewallLocations[name.text] {
      diagnostics.append(
        .error(
          "firewall '\(name.text)' is already declared", at: name.location,
          notes: [.init("previous declaration is here", at: earlier)]))
      return
    }
    firewallLocations[name.text] = name.location
    if firewalls.contains(where: { $0.namespace == name.text }) == false {
      firewalls.append(Firewall(namespace: name.text, ruleset: Ruleset(), location: name.location))
    }
    for child in block.children {
      guard case .block(let tableBlock) = child, tableBlock.header[0].isWord("table") else {
        diagnostics.append(.error("only table blocks are allowed inside a firewall", at: child.firstToken.location))
        continue
      }
      if let table = processTable(tableBlock) {
        addTable(table, namespace: name.text, at: name.location)
      }
    }
  }

  // MARK: table FAMILY NAME { … }

  mutating func processTable(_ block: SyntaxBlock) -> Table? {
    var cursor = TokenCursor(block.header)
    _ = cursor.next()
    do {
      let familyToken = try cursor.expectWord("a family (ip, ip6, inet, arp, bridge, netdev)")
      guard let family = Family(rawValue: familyToken.text) else {
        throw Diagnostic.error(
          "unknown family '\(familyToken.text)' (ip, ip6, inet, arp, bridge, netdev)", at: familyToken.location)
      }
      let name = try cursor.expectName("a table name")
      try checkObjectName(name, what: "table")
      if let extra = cursor.peek { throw Diagnostic.error("unexpected '\(extra)' in table header", at: extra.location) }
      var table = Table(family: family, name: name.text, location: block.header[0].location)
      for child in block.children {
        guard case .block(let b) = child else {
          diagnostics.append(
            .error(
              "expected a chain or set block inside a table, found '\(child.firstToken)'", at: child.firstToken.location
            ))
          continue
        }
        switch b.header[0].text {
        case "chain":
          if let chain = processChain(b, family: family) {
            if let earlier = table.chain(chain.name) {
              diagnostics.append(
                .error(
                  "chain '\(chain.name)' is already declared in table \(family.rawValue) \(table.name)",
                  at: chain.location, notes: [.init("previous declaration is here", at: earlier.location)]))
            } else {
              table.chains.append(chain)
            }
          }
        case "set":
          if let set = processSet(b, family: family) {
            if let earlier = table.set(set.name) {
              diagnostics.append(
                .error(
                  "set '\(set.name)' is already declared in table \(family.rawValue) \(table.name)",
                  at: set.location, notes: [.init("previous declaration is here", at: earlier.location)]))
            } else {
              table.sets.append(set)
            }
          }
        default:
          diagnostics.append(
            .error("'\(b.header[0].text)' block is not allowed inside a table", at: b.header[0].location))
        }
      }
      return table
    } catch let d as Diagnostic {
      diagnostics.append(d)
    } catch {}
    return nil
  }

  func checkObjectName(_ name: Token, what: String) throws {
    if name.text.isEmpty { throw Diagnostic.error("empty \(what) name", at: name.location) }
    if name.text.utf8.count > 255 {
      throw Diagnostic.error(
        "\(what) name is \(name.text.utf8.count) bytes; the kernel allows at most 255", at: name.location)
    }
  }

  // MARK: chain NAME { … }

  mutating func processChain(_ block: SyntaxBlock, family: Family) -> Chain? {
    var cursor = TokenCursor(block.header)
    _ = cursor.next()
    guard let name = try? cursor.expectName("a chain name") else {
      diagnostics.append(.error("expected a chain name after 'chain'", at: cursor.location))
      return nil
    }
    do {
      try checkObjectName(name, what: "chain")
    } catch let d as Diagnostic {
      diagnostics.append(d)
    } catch {}
    if let extra = cursor.peek {
      diagnostics.append(.error("unexpected '\(extra)' in chain header", at: extra.location))
    }
    var chain = Chain(name: name.text, kind: .regular, location: block.header[0].location)
    var base: BaseChain?
    var policyToken: Token?
    var policy: ChainPolicy = .accept
    for child in block.children {
      guard case .line(let line) = child else {
        diagnostics.append(
          .error("'\(child.firstToken.text)' block is not allowed inside a chain", at: child.firstToken.location))
        continue
      }
      do {
        let tokens = try expand(line.tokens)
        let first = tokens[0]
        if first.isWord("type") {
          if base != nil || !chain.rules.isEmpty {
            throw Diagnostic.error(
              base != nil
                ? "chain '\(name.text)' already has a type line"
                : "the 'type … hook …' line must come before the rules",
              at: first.location)
          }
          base = try parseBaseChainHeader(tokens)
        } else if first.isWord("policy") {
          var c = TokenCursor(tokens)
          _ = c.next()
          let p = try c.expectWord("accept or drop")
          guard let value = ChainPolicy(rawValue: p.text) else {
            throw Diagnostic.error("unknown chain policy '\(p.text)' (accept or drop)", at: p.location)
          }
          if let extra = c.peek { throw Diagnostic.error("unexpected '\(extra)' after policy", at: extra.location) }
          policy = value
          policyToken = first
        } else {
          var parser = RuleParser(tokens: tokens, family: family)
          var rule = try parser.parse()
          rule.location = line.tokens[0].location
          chain.rules.append(rule)
        }
      } catch let d as Diagnostic {
        diagnostics.append(d)
      } catch {}
    }
    if var base {
      base.policy = policy
      chain.kind = .base(base)
    } else if let policyToken {
      diagnostics.append(
        .error("policy is only allowed in a base chain (one with 'type … hook … priority …')", at: policyToken.location)
      )
    }
    return chain
  }

  /// `type filter hook forward priority filter [+|- N]` and optional `device NAME`.
  func parseBaseChainHeader(_ tokens: [Token]) throws -> BaseChain {
    var c = TokenCursor(tokens)
    let start = c.next()!
    let typeToken = try c.expectWord("a chain type (filter, nat, route)")
    guard let type = ChainType(rawValue: typeToken.text) else {
      throw Diagnostic.error("unknown chain type '\(typeToken.text)' (filter, nat, route)", at: typeToken.location)
    }
    try c.expect(word: "hook", context: " after the chain type")
    let hookToken = try c.expectWord("a hook")
    guard let hook = Hook(rawValue: hookToken.text) else {
      throw Diagnostic.error(
        "unknown hook '\(hookToken.text)' (\(Hook.allCases.map(\.rawValue).joined(separator: ", ")))",
        at: hookToken.location)
    }
    var device: String?
    if c.accept(word: "device") {
      let d = try c.expectName("a device name")
      try ValueParser.checkInterfaceName(d.text, d)
      device = d.text
    }
    try c.expect(word: "priority", context: " after the hook")
    let p = try c.expectWord("a priority (a number or raw, mangle, dstnat, filter, security, srcnat)")
    var priority: Priority
    if let n = Int(p.text) {
      priority = .number(n)
    } else if let name = Priority.Name(rawValue: p.text) {
      priority = Priority(name: name)
      if c.peek?.isPunct("+") == true || c.peek?.isWord("-") == true {
        let sign = c.next()!
        let o = try c.expectWord("an offset")
        guard let off = Int(o.text), off >= 0 else {
          throw Diagnostic.error("bad priority offset '\(o.text)'", at: o.location)
        }
        priority.offset = sign.isPunct("+") ? off : -off
      }
    } else {
      throw Diagnostic.error(
        "bad priority '\(p.text)': a number or raw, mangle, dstnat, filter, security, srcnat", at: p.location)
    }
    if let extra = c.peek {
      throw Diagnostic.error("unexpected '\(extra)' in the chain's type line", at: extra.location)
    }
    return BaseChain(type: type, hook: hook, priority: priority, device: device, location: start.location)
  }

  // MARK: set NAME { … }

  mutating func processSet(_ block: SyntaxBlock, family: Family) -> NamedSet? {
    var cursor = TokenCursor(block.header)
    _ = cursor.next()
    guard let name = try? cursor.expectName("a set name") else {
      diagnostics.append(.error("expected a set name after 'set'", at: cursor.location))
      return nil
    }
    do {
      try checkObjectName(name, what: "set")
    } catch let d as Diagnostic {
      diagnostics.append(d)
    } catch {}
    var type: SetType?
    var elementTokens: [Token] = []
    for child in block.children {
      guard case .line(let line) = child else {
        diagnostics.append(.error("blocks are not allowed inside a set", at: child.firstToken.location))
        continue
      }
      do {
        let tokens = try expand(line.tokens)
        var c = TokenCursor(tokens)
        let first = c.next()!
        switch first.text {
        case "type":
          let t = try c.expectWord("a set type")
          guard let st = SetType(rawValue: t.text) else {
            throw Diagnostic.error(
              "unknown set type '\(t.text)' (\(SetType.allCases.map(\.rawValue).joined(separator: ", ")))",
              at: t.location)
          }
          if st == .ipv6Address && family == .ip || st == .ipv4Address && family == .ip6 {
            throw Diagnostic.error("set type \(st.rawValue) does not fit an \(family.rawValue) table", at: t.location)
          }
          type = st
        case "flags":
          // `flags interval` is derived from the elements; other flags are not supported.
          repeat {
            let f = try c.expectWord("a flag")
            guard f.text == "interval" else {
              throw Diagnostic.error("unsupported set flag '\(f.text)' (only interval)", at: f.location)
            }
          } while c.accept(punct: ",")
        case "elements":
          guard c.accept(punct: "=") else { throw Diagnostic.error("expected '=' after elements", at: c.location) }
          elementTokens = Array(tokens[c.index...])
        default:
          throw Diagnostic.error("expected type, flags or elements in a set, found '\(first)'", at: first.location)
        }
      } catch let d as Diagnostic {
        diagnostics.append(d)
      } catch {}
    }
    guard let type else {
      diagnostics.append(.error("set '\(name.text)' needs a 'type' line", at: name.location))
      return nil
    }
    var elements: [SetElement] = []
    for t in elementTokens where !t.isPunct("{") && !t.isPunct("}") && !t.isPunct(",") {
      do {
        elements.append(try setElement(t, type: type))
      } catch let d as Diagnostic {
        diagnostics.append(d)
      } catch {}
    }
    return NamedSet(name: name.text, type: type, elements: elements, location: block.header[0].location)
  }

  func setElement(_ t: Token, type: SetType) throws -> SetElement {
    switch type {
    case .ipv4Address, .ipv6Address:
      let e = try ValueParser.addressElement(t)
      if (e.version == .v4) != (type == .ipv4Address) {
        throw Diagnostic.error("\(t.text) is not an element of type \(type.rawValue)", at: t.location)
      }
      return .address(e)
    case .inetService: return .port(try ValueParser.portRange(t))
    case .inetProto: return .proto(try ValueParser.proto(t))
    case .interfaceName: return .interface(try ValueParser.interface(t))
    case .etherAddress: return .ether(try ValueParser.mac(t))
    }
  }
}

/// Reads policy files from the file system.
public struct FileSource: PolicySource {
  public init() {}
  public func read(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = fread(&buffer, 1, buffer.count, file)
      if n <= 0 { break }
      bytes += buffer[0..<n]
    }
    if ferror(file) != 0 { return nil }
    return String(decoding: bytes, as: UTF8.self)
  }
}

/// Reads policy files from a dictionary (tests).
public struct MemorySource: PolicySource {
  public var files: [String: String]
  public init(_ files: [String: String]) { self.files = files }
  public func read(_ path: String) -> String? { files[path] }
}
