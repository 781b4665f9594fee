import NetfilterModel

extension RuleLinearizer {
  /// Adds one match as nft linearizes its script text.
  mutating func add(_ match: Match, asRange: Bool) throws {
    let op = match.negated ? K.neq : K.eq
    switch match.kind {
    case .address(let version, let direction, let operand):
      requireNetwork(version)
      let offset: UInt32 =
        version == .v4 ? (direction == .source ? 12 : 16) : (direction == .source ? 8 : 24)
      addAddress(operand, version: version, offset: offset, negated: match.negated, op: op)

    case .nfproto(let version):
      // As nft: a positive test is the dependency later network-header matches need.
      if match.negated {
        steps.append(.match([.meta(K.metaNfproto), .cmp(K.neq, [version == .v4 ? 2 : 10])]))
      } else {
        knownNetwork = nil
        requireNetwork(version)
      }

    case .l4proto(let field, let operand):
      let load: Expression
      switch field {
      case .ipProtocol:
        requireNetwork(.v4)
        load = .payload(base: K.networkHeader, offset: 9, length: 1)
      case .ip6NextHeader:
        requireNetwork(.v6)
        load = .payload(base: K.networkHeader, offset: 6, length: 1)
      case .metaL4proto:
        load = .meta(K.metaL4proto)
      }
      let isPayload = field != .metaL4proto
      let byteOrder = isPayload ? DataType.bigEndian : DataType.hostOrder
      addSimple(
        load, operand.map { [$0] }, sorted: { $0[0] < $1[0] }, op: op, negated: match.negated,
        set: (DataType.inetProtocol, 1, byteOrder), payloadCandidate: isPayload)
      if !match.negated, case .single(let p) = operand { knownTransport = p }

    case .port(let proto, let direction, let operand):
      requireTransport(proto.number)
      let offset: UInt32 = direction == .source ? 0 : 2
      addPorts(operand, offset: offset, negated: match.negated, asRange: asRange)

    case .icmpType(let version, let operand), .icmpCode(let version, let operand):
      if family == .inet { requireNetwork(version) }
      requireTransport(version == .v4 ? 1 : 58)
      var isCode = false
      if case .icmpCode = match.kind { isCode = true }
      let type: UInt32 =
        isCode
        ? (version == .v4 ? DataType.icmpCode : DataType.icmpv6Code)
        : (version == .v4 ? DataType.icmpType : DataType.icmpv6Type)
      addSimple(
        .payload(base: K.transportHeader, offset: isCode ? 1 : 0, length: 1), operand.map { [$0] },
        sorted: { $0[0] < $1[0] }, op: op, negated: match.negated, set: (type, 1, DataType.bigEndian),
        payloadCandidate: true)

    case .interface(let direction, let operand):
      let load = Expression.meta(direction == .input ? K.metaIifname : K.metaOifname)
      if case .set(let names) = operand, names.count > 1, names.contains(where: \.isWildcard) {
        throw DiagnosticList([
          .error("the native nft backend cannot put a wildcard interface in a set yet", at: match.location)
        ])
      }
      let collapsed = collapse(operand)
      if case .single(let pattern) = collapsed, pattern.isWildcard {
        steps.append(.match([load, .cmp(op, Array(pattern.name.utf8))]))
        return
      }
      addSimple(
        load, collapsed.map { Bytes.interfaceName($0.name) }, sorted: { $0.lexicographicallyPrecedes($1) },
        op: op, negated: match.negated, set: (DataType.interfaceName, 16, DataType.hostOrder),
        payloadCandidate: false)

    case .interfaceIndex(let direction, _):
      // The index belongs to the namespace the rules go into, which nft resolves when it loads.
      throw DiagnosticList([
        .error(
          "the native nft backend matches interfaces by name only; '\(direction == .input ? "iif" : "oif")' needs the nft script backend (nft -f)",
          at: match.location)
      ])

    case .bridgePort:
      throw DiagnosticList([.error("nftables has no bridge-port (physdev) match", at: match.location)])

    case .opaque(let opaque):
      throw DiagnosticList([
        .error(
          opaque.syntax == .nft
            ? "nft expression '\(opaque.text)' is kept as text: only nft's own parser can build it, so it cannot be applied natively"
            : "cannot express in nft: \(opaque.syntax.rawValue) match '\(opaque.text)'", at: match.location)
      ])

    case .addressType(let direction, let types):
      let fib = Expression.fib(
        flags: direction == .source ? K.fibSourceAddress : K.fibDestinationAddress, result: K.fibAddressType)
      let values = types.sorted().map(\.number)
      if values.count == 1 {
        steps.append(.match([fib, .cmp(op, Bytes.host32(values[0]))]))
      } else {
        let lookup = anonymousLookup(
          type: DataType.fibAddressType, length: 4, byteOrder: DataType.hostOrder,
          elements: values.map { KernelSet.Element(key: Bytes.host32($0)) }, interval: false, inverted: match.negated)
        steps.append(.match([fib, lookup]))
      }

    case .ctState(let states):
      let bits = states.sorted().map(Self.ctBit)
      if match.negated && bits.count > 1 {
        let lookup = anonymousLookup(
          type: DataType.ctState, length: 4, byteOrder: DataType.hostOrder,
          elements: bits.map { KernelSet.Element(key: Bytes.host32($0)) }, interval: false, inverted: true)
        steps.append(.match([.ct(K.ctState), lookup]))
      } else if match.negated {
        steps.append(.match([.ct(K.ctState), .cmp(K.neq, Bytes.host32(bits[0]))]))
      } else {
        let mask = bits.reduce(0, |)
        steps.append(.match([.ct(K.ctState), .bitwise(mask: Bytes.host32(mask)), .cmp(K.neq, Bytes.host32(0))]))
      }

    case .mark(let value, let mask), .ctMark(let value, let mask):
      var e: [Expression] = [.meta(K.metaMark)]
      if case .ctMark = match.kind { e = [.ct(K.ctMark)] }
      if let mask { e.append(.bitwise(mask: Bytes.host32(mask))) }
      e.append(.cmp(op, Bytes.host32(value)))
      steps.append(.match(e))

    case .etherSource(let operand):
      requireEthernet()
      addSimple(
        .payload(base: K.linkHeader, offset: 6, length: 6), operand.map(\.octets),
        sorted: { $0.lexicographicallyPrecedes($1) }, op: op, negated: match.negated,
        set: (DataType.etherAddress, 6, DataType.bigEndian), payloadCandidate: true)

    case .tcpFlags(let value, let mask):
      requireTransport(6)
      // `tcp flags ! fin,rst` (value empty) is (flags & mask) == 0; negated, != 0.
      let compare = value.isEmpty ? (match.negated ? K.neq : K.eq) : op
      steps.append(
        .match([
          .payload(base: K.transportHeader, offset: 13, length: 1), .bitwise(mask: [mask.rawValue]),
          .cmp(compare, [value.rawValue]),
        ]))

    case .limit(let limit):
      steps.append(.statement([Self.limit(limit)]))
    }
  }

  /// The kernel's `NF_CT_STATE_*_BIT` of a state.
  static func ctBit(_ state: CTState) -> UInt32 {
    switch state {
    case .invalid: return 1
    case .established: return 2
    case .related: return 4
    case .new: return 8
    case .untracked: return 64
    }
  }

  static func limit(_ l: RateLimit) -> Expression {
    let bytes = l.quantity == .bytes
    return .limit(
      rate: l.rate, unit: UInt64(l.unit.seconds), burst: l.burst ?? (bytes ? 0 : RateLimit.defaultBurst),
      bytes: bytes, inverted: l.over)
  }

  /// nft turns a one-element anonymous set into a plain compare.
  func collapse<T>(_ operand: Operand<T>) -> Operand<T> {
    if case .set(let es) = operand, es.count == 1 { return .single(es[0]) }
    return operand
  }

  /// A single value (compare), an anonymous set (lookup) or a named set.
  mutating func addSimple(
    _ load: Expression, _ operand: Operand<[UInt8]>, sorted: ([UInt8], [UInt8]) -> Bool, op: UInt32,
    negated: Bool, set: (type: UInt32, length: UInt32, byteOrder: UInt32), payloadCandidate: Bool
  ) {
    switch collapse(operand) {
    case .single(let value):
      if payloadCandidate, case .payload(let base, let offset, _) = load {
        steps.append(.payloadCompare(PayloadCompare(base: base, offset: offset, value: value, op: op)))
      } else {
        steps.append(.match([load, .cmp(op, value)]))
      }
    case .set(let values):
      let lookup = anonymousLookup(
        type: set.type, length: set.length, byteOrder: set.byteOrder,
        elements: Array(Set(values)).sorted(by: sorted).map { KernelSet.Element(key: $0) }, interval: false,
        inverted: negated)
      steps.append(.match([load, lookup]))
    case .named(let name):
      steps.append(.match([load, .lookup(.named(name), inverted: negated)]))
    }
  }

  mutating func addAddress(
    _ operand: Operand<AddressElement>, version: IPVersion, offset: UInt32, negated: Bool, op: UInt32
  ) {
    let width = version.bitWidth / 8
    let load = Expression.payload(base: K.networkHeader, offset: offset, length: UInt32(width))
    var operand = operand
    if case .set(let es) = operand { operand = collapse(.set(NFTSyntax.mergedAddresses(es))) }
    switch operand {
    case .single(.prefix(let p)) where p.isSingleAddress:
      steps.append(
        .payloadCompare(PayloadCompare(base: K.networkHeader, offset: offset, value: Bytes.address(p.address), op: op)))
    case .single(.prefix(let p)) where p.length % 8 == 0 && p.length > 0:
      // A byte-aligned prefix loads only its bytes.
      let bytes = p.length / 8
      steps.append(
        .match([
          .payload(base: K.networkHeader, offset: offset, length: UInt32(bytes)),
          .cmp(op, Array(Bytes.address(p.address).prefix(bytes))),
        ]))
    case .single(.prefix(let p)):
      steps.append(
        .match([load, .bitwise(mask: Bytes.prefixMask(p.length, bytes: width)), .cmp(op, Bytes.address(p.address))]))
    case .single(.range(let lo, let hi)):
      if negated {
        steps.append(.match([load, .range(negated: true, Bytes.address(lo), Bytes.address(hi))]))
      } else {
        steps.append(.match([load, .cmp(K.gte, Bytes.address(lo)), .cmp(K.lte, Bytes.address(hi))]))
      }
    case .set(let elements):
      let interval = elements.contains { !$0.isSingleAddress }
      let keys: [KernelSet.Element]
      if interval {
        keys = KernelSet.intervalElements(elements.map { (Bytes.address($0.bounds.0), Bytes.address($0.bounds.1)) })
      } else {
        keys = elements.sorted().map { KernelSet.Element(key: Bytes.address($0.bounds.0)) }
      }
      let lookup = anonymousLookup(
        type: version == .v4 ? DataType.ipv4Address : DataType.ipv6Address, length: UInt32(width),
        byteOrder: DataType.bigEndian, elements: keys, interval: interval, inverted: negated)
      steps.append(.match([load, lookup]))
    case .named(let name):
      steps.append(.match([load, .lookup(.named(name), inverted: negated)]))
    }
  }

  mutating func addPorts(_ operand: Operand<PortRange>, offset: UInt32, negated: Bool, asRange: Bool) {
    let load = Expression.payload(base: K.transportHeader, offset: offset, length: 2)
    var operand = operand
    if case .set(let es) = operand { operand = collapse(.set(NFTSyntax.mergedPorts(es))) }
    switch operand {
    case .single(let r) where r.isSinglePort && !asRange:
      steps.append(
        .payloadCompare(
          PayloadCompare(
            base: K.transportHeader, offset: offset, value: Bytes.be16(r.first), op: negated ? K.neq : K.eq)))
    case .single(let r):
      if negated {
        steps.append(.match([load, .range(negated: true, Bytes.be16(r.first), Bytes.be16(r.last))]))
      } else {
        steps.append(.match([load, .cmp(K.gte, Bytes.be16(r.first)), .cmp(K.lte, Bytes.be16(r.last))]))
      }
    case .set(let ranges):
      let interval = ranges.contains { !$0.isSinglePort }
      let keys =
        interval
        ? KernelSet.intervalElements(ranges.map { (Bytes.be16($0.first), Bytes.be16($0.last)) })
        : ranges.sorted().map { KernelSet.Element(key: Bytes.be16($0.first)) }
      let lookup = anonymousLookup(
        type: DataType.inetService, length: 2, byteOrder: DataType.bigEndian, elements: keys, interval: interval,
        inverted: negated)
      steps.append(.match([load, lookup]))
    case .named(let name):
      steps.append(.match([load, .lookup(.named(name), inverted: negated)]))
    }
  }
}
