import { parse, type EvalFunction, type MathNode } from 'mathjs';
import { SamstarError, suggestName } from '../src/util/errors.js';

/**
 * The composite's `total` (and each objective): a mathjs expression over the term names, e.g.
 * `0.5*size + 0.3*shape - 0.2*overlap`. Parsed and checked once when the config is loaded:
 * every variable must be a term name, functions come from a short list, and nothing but
 * arithmetic is allowed (no assignments, no function definitions). Then compiled once.
 */
export const EXPRESSION_FUNCTIONS: readonly string[] = ['abs', 'min', 'max', 'sqrt', 'exp', 'log', 'pow', 'mean'];

const ALLOWED_NODES = new Set(['ConstantNode', 'SymbolNode', 'OperatorNode', 'ParenthesisNode', 'FunctionNode', 'ConditionalNode']);

export interface CompiledExpression {
  readonly source: string;
  readonly symbols: readonly string[];
  evaluate(terms: Readonly<Record<string, number>>): number;
}

export function compileExpression(source: string, termNames: readonly string[], where: string): CompiledExpression {
  let node: MathNode;
  try {
    node = parse(source);
  } catch (error) {
    throw new SamstarError('EXPRESSION_INVALID', `${where}: cannot parse "${source}": ${(error as Error).message}`, {
      hint: `write an arithmetic expression over the term names (${termNames.join(', ')}), e.g. "0.5*size - 0.2*overlap"`,
      cause: error,
    });
  }
  const symbols = new Set<string>();
  node.traverse((n: MathNode, path: string, parent: MathNode | null) => {
    if (!ALLOWED_NODES.has(n.type)) {
      throw new SamstarError('EXPRESSION_INVALID', `${where}: "${source}" contains a ${n.type.replace(/Node$/, '').toLowerCase()}; only arithmetic over term names is allowed`);
    }
    if (n.type === 'FunctionNode') {
      const name = (n as unknown as { fn: { name?: string } }).fn.name ?? '';
      if (!EXPRESSION_FUNCTIONS.includes(name)) {
        throw new SamstarError('EXPRESSION_INVALID', `${where}: unknown function "${name}" in "${source}"`, {
          hint: suggestName(name, EXPRESSION_FUNCTIONS),
        });
      }
    }
    if (n.type === 'SymbolNode' && !(parent?.type === 'FunctionNode' && path === 'fn')) {
      const name = (n as unknown as { name: string }).name;
      if (!termNames.includes(name)) {
        throw new SamstarError('EXPRESSION_INVALID', `${where}: "${name}" in "${source}" is not a term of this config`, {
          hint: suggestName(name, termNames),
        });
      }
      symbols.add(name);
    }
  });
  let compiled: EvalFunction;
  try {
    compiled = node.compile();
  } catch (error) {
    throw new SamstarError('EXPRESSION_INVALID', `${where}: cannot compile "${source}": ${(error as Error).message}`, { cause: error });
  }
  return {
    source,
    symbols: [...symbols],
    evaluate(terms) {
      let value: unknown;
      try {
        value = compiled.evaluate({ ...terms });
      } catch (error) {
        throw new SamstarError('EXPRESSION_INVALID', `${where}: evaluating "${source}" failed: ${(error as Error).message}`, { cause: error });
      }
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new SamstarError(
          'EXPRESSION_INVALID',
          `${where}: "${source}" evaluated to ${String(value)} with terms ${JSON.stringify(terms)}`,
          { hint: 'a reward must be a finite number: guard divisions and logarithms (e.g. log(x + 1e-6))' },
        );
      }
      return value;
    },
  };
}
