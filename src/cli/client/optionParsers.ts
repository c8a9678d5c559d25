/**
 * Parsers of the client commands' numeric options: a bad value is a usage error (exit 2) that
 * names the option, never a NaN sent on to the API or a poll loop without a pause.
 */
import { InvalidArgumentError } from "commander";

/** A number above zero, e.g. `--interval 0.5`. */
export function positiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0)
    throw new InvalidArgumentError("must be a positive number");
  return number;
}

/** A whole number from 1, e.g. `--top 20`. */
export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError("must be a whole number from 1");
  return Number(value);
}
