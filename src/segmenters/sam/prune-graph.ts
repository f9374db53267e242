import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/**
 * Keep only what `outputs` need: drop the other graph outputs, every node that
 * feeds only them, and the inputs and initializers nothing reads any more.
 *
 * Why: the official SAM decoder always upsamples its logits to 1024² and then
 * to `orig_im_size` for the `masks` output, and onnxruntime runs those nodes
 * even when `masks` is not fetched. The filter stage rebuilds the few
 * full-resolution logits it needs from `low_res_masks` on the host (see
 * upsample.ts), so the pruned decoder skips millions of values per prompt.
 * Subgraphs (If/Loop bodies) are kept whole when their node is needed, and the
 * names they read from the outer scope count as used.
 */
export function pruneToOutputs(modelBytes: Uint8Array, outputs: readonly string[]): { bytes: Uint8Array; removedNodes: number; removedInputs: string[] } {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph) throw new Error('model has no graph');
  const nodes = graph.node ?? [];
  const producer = new Map<string, number>();
  nodes.forEach((node, i) => (node.output ?? []).forEach((name) => producer.set(name, i)));

  const needed = new Set<string>(outputs);
  const keep = new Set<number>();
  const stack = [...outputs];
  while (stack.length > 0) {
    const name = stack.pop()!;
    const i = producer.get(name);
    if (i === undefined || keep.has(i)) continue;
    keep.add(i);
    for (const input of [...(nodes[i].input ?? []), ...subgraphReads(nodes[i])]) {
      if (input && !needed.has(input)) {
        needed.add(input);
        stack.push(input);
      }
    }
  }
  const kept = nodes.filter((_, i) => keep.has(i));
  const removedInputs = (graph.input ?? []).filter((v) => !needed.has(v.name ?? '')).map((v) => v.name ?? '');
  graph.node = kept;
  graph.output = (graph.output ?? []).filter((v) => outputs.includes(v.name ?? ''));
  graph.input = (graph.input ?? []).filter((v) => needed.has(v.name ?? ''));
  graph.initializer = (graph.initializer ?? []).filter((t) => needed.has(t.name ?? ''));
  graph.valueInfo = (graph.valueInfo ?? []).filter((v) => needed.has(v.name ?? ''));
  return { bytes: onnx.ModelProto.encode(model).finish(), removedNodes: nodes.length - kept.length, removedInputs };
}

/** Names a node's subgraphs (If/Loop/Scan bodies) read: counted as inputs of the node. */
function subgraphReads(node: onnxProto.onnx.INodeProto): string[] {
  const names: string[] = [];
  for (const attribute of node.attribute ?? []) {
    for (const g of [attribute.g, ...(attribute.graphs ?? [])]) {
      if (!g) continue;
      for (const inner of g.node ?? []) names.push(...(inner.input ?? []), ...subgraphReads(inner));
    }
  }
  return names;
}
