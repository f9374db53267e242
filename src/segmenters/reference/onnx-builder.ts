// Tiny typed helpers to write ONNX graphs from TypeScript with the onnx-proto protobuf definitions.
// Everything here is deterministic on purpose: value names come from a counter, constants are stored
// as little-endian raw bytes, and nothing (no timestamp, no random id) depends on when or where the
// model is built, so regenerating a model gives byte-identical files.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type GraphProto = onnxProto.onnx.IGraphProto;

/** ONNX attribute constructors; the attribute kind must be explicit because 1 and 1.0 look alike in JS. */
export const attr = {
  i: (v: number) => ({ type: onnx.AttributeProto.AttributeType.INT, i: v }),
  f: (v: number) => ({ type: onnx.AttributeProto.AttributeType.FLOAT, f: v }),
  ints: (v: readonly number[]) => ({ type: onnx.AttributeProto.AttributeType.INTS, ints: [...v] }),
  floats: (v: readonly number[]) => ({ type: onnx.AttributeProto.AttributeType.FLOATS, floats: [...v] }),
  s: (v: string) => ({ type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) }),
  g: (v: GraphProto) => ({ type: onnx.AttributeProto.AttributeType.GRAPH, g: v }),
};
export type Attr = ReturnType<(typeof attr)[keyof typeof attr]>;

export type ElemType = 'float' | 'int64' | 'bool';
const ELEM: Record<ElemType, number> = {
  float: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** A dimension is a fixed size or a symbolic name (dynamic axis). */
export type Dim = number | string;

function valueInfo(name: string, elem: ElemType, dims: readonly Dim[] | null): onnxProto.onnx.IValueInfoProto {
  const shape = dims === null ? null : {
    dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
  };
  return { name, type: { tensorType: { elemType: ELEM[elem], shape } } };
}

/** Raw little-endian bytes of a constant (explicit byte order so files do not depend on the host). */
function rawBytes(values: readonly number[], elem: ElemType): Uint8Array {
  const width = elem === 'bool' ? 1 : elem === 'int64' ? 8 : 4;
  const buf = new Uint8Array(values.length * width);
  const view = new DataView(buf.buffer);
  values.forEach((v, k) => {
    if (elem === 'float') view.setFloat32(k * 4, v, true);
    else if (elem === 'int64') view.setBigInt64(k * 8, BigInt(Math.trunc(v)), true);
    else view.setUint8(k, v ? 1 : 0);
  });
  return buf;
}

/**
 * Collects nodes, constants and graph inputs/outputs. `op` returns the name of the (first) output so
 * graphs read like expressions: `g.op('Add', [a, b])`.
 */
export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly inits: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private counter = 0;

  /** `prefix` keeps names unique when a subgraph (If branch) is built next to its parent. */
  constructor(private readonly prefix = '') {}

  private fresh(hint: string): string {
    return `${this.prefix}${hint}_${this.counter++}`;
  }

  input(name: string, elem: ElemType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, elem, dims));
    return name;
  }

  /** Declares `value` as a graph output under `name` (via Identity when the names differ). */
  output(value: string, name: string, elem: ElemType, dims: readonly Dim[] | null): void {
    if (value !== name) this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: this.fresh('Identity') });
    this.outputs.push(valueInfo(name, elem, dims));
  }

  /** A constant tensor stored as an initializer. Scalars use dims []. */
  const(values: readonly number[] | Float32Array, dims: readonly number[], elem: ElemType = 'float', hint = 'c'): string {
    const arr = Array.from(values);
    const size = dims.reduce((a, b) => a * b, 1);
    if (arr.length !== size) throw new Error(`constant ${hint}: ${arr.length} values for shape [${dims.join(',')}]`);
    const name = this.fresh(hint);
    this.inits.push({ name, dims: [...dims], dataType: ELEM[elem], rawData: rawBytes(arr, elem) });
    return name;
  }

  /** Float scalar shortcut. */
  scalar(v: number): string {
    return this.const([v], [], 'float', 'k');
  }

  /** Int64 1-D shortcut (shapes, axes, pads, slice bounds). */
  ints(v: readonly number[]): string {
    return this.const(v, [v.length], 'int64', 'i');
  }

  /** Adds a node with `nOut` outputs and returns all output names (`names` overrides generated ones). */
  opN(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, nOut = 1, names?: readonly string[]): string[] {
    const outs = names ? [...names] : Array.from({ length: nOut }, () => this.fresh(opType));
    const attribute = Object.keys(attrs).sort().map((k) => ({ name: k, ...attrs[k] }));
    this.nodes.push({ opType, input: [...inputs], output: outs, name: this.fresh(`n${opType}`), attribute });
    return outs;
  }

  /** Adds a node with one output and returns its name; pass `name` to write a graph output directly. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, name?: string): string {
    return this.opN(opType, inputs, attrs, 1, name === undefined ? undefined : [name])[0]!;
  }

  graph(name: string): GraphProto {
    return { name, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs };
  }
}

export interface ModelMeta {
  producerName: string;
  producerVersion: string;
  docString: string;
  opset: number;
}

/** Serialises a graph into ONNX model bytes (IR version 8 pairs with opsets up to 17). */
export function serializeModel(graph: GraphProto, meta: ModelMeta): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: meta.producerName,
    producerVersion: meta.producerVersion,
    docString: meta.docString,
    opsetImport: [{ domain: '', version: meta.opset }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}
