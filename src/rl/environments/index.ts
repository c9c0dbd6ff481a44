// The environments by name, with their options parsed from `NAME[:option=value,...]`.
import { parseOptions } from '../../data/tasks/task.js';
import { DataError } from '../../data/data-error.js';
import { corridor } from './corridor.js';
import type { EnvironmentKind } from './environment.js';
import { instruction } from './instruction.js';
import { portal } from './portal.js';

export const ENVIRONMENTS: EnvironmentKind[] = [corridor, portal, instruction];

export function environmentKind(spec: string): { kind: EnvironmentKind; options: Record<string, number> } {
  const [name, ...rest] = spec.split(':');
  const kind = ENVIRONMENTS.find((e) => e.name === name);
  if (!kind) throw new DataError(`unknown environment "${name}" (environments: ${ENVIRONMENTS.map((e) => e.name).join(', ')})`);
  return { kind, options: parseOptions(`env ${name}`, kind.options, rest.join(':')) };
}
