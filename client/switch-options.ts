/**
 * The options that say how a switch's records are read, as `billing usage import` and
 * `billing sources add` take them: the voicemail numbers and feature codes, checked by the
 * readers' own ServiceNumbers, so a bad one exits 2 naming its flag.
 */
import { ServiceNumbers } from '../billing/cdr/switch-row';
import { InputError } from './context';

/** `a, b,c` → ['a', 'b', 'c'] (empty entries dropped); undefined when the option was not given. */
function listOption(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  return String(value)
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** `--voicemail-numbers` and `--feature-codes` (`none`: no feature codes), undefined when not given. */
export function serviceNumberOptions(opts: { voicemailNumbers?: unknown; featureCodes?: unknown }): { voicemailNumbers?: string[]; featureCodes?: string[] } {
  const voicemailNumbers = listOption(opts.voicemailNumbers);
  const patterns = opts.featureCodes as string[] | undefined;
  const featureCodes = patterns === undefined ? undefined : patterns.length === 1 && patterns[0] === 'none' ? [] : patterns;
  const settings: [string, ConstructorParameters<typeof ServiceNumbers>[0]][] = [
    ['--voicemail-numbers', { voicemailNumbers, featureCodes: [] }],
    ['--feature-codes', { featureCodes }],
  ];
  for (const [name, given] of settings) {
    try {
      new ServiceNumbers(given);
    } catch (error) {
      throw new InputError(`${name}: ${(error as Error).message}`);
    }
  }
  return { voicemailNumbers, featureCodes };
}
