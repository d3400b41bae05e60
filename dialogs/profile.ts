/**
 * What is stored about a person, and nothing else: structured progress under a pseudonymous key.
 * No field can hold free text; answers are choice codes or numbers.
 */
import type { StatePropertyAccessor, TurnContext } from 'botbuilder';

export interface ModuleProgress {
  /** The module version the step id belongs to; a newer version restarts the module. */
  version: number;
  stepId: string;
  completed: boolean;
}

export interface Profile {
  consent?: { version: number };
  /** Module id of the module the person was last in, for "continue where you left off". */
  lastModule?: string;
  progress: Record<string, ModuleProgress>;
  /** Per module, per step: the choice code or scale number the person gave. */
  answers: Record<string, Record<string, string | number>>;
  /** Per safety-plan section: the item codes chosen. */
  safetyPlan: Record<string, string[]>;
  /** Country code from resources/helplines.yaml, asked once so crisis numbers fit where the person is. */
  country?: string;
}

export type ProfileAccessor = StatePropertyAccessor<Profile>;

export function emptyProfile(): Profile {
  return { progress: {}, answers: {}, safetyPlan: {} };
}

export async function readProfile(accessor: ProfileAccessor, context: TurnContext): Promise<Profile> {
  return accessor.get(context, emptyProfile());
}
