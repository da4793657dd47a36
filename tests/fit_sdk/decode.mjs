// SPDX-License-Identifier: Apache-2.0
//
// Decodes a FIT file with Garmin's FIT SDK (@garmin/fitsdk) and prints what it found as JSON:
// {"integrity": bool, "errors": [...], "messages": {"fileIdMesgs": [...], ...}}.
// Usage: node decode.mjs FILE.fit
import { readFileSync } from "node:fs";
import { Decoder, Stream } from "@garmin/fitsdk";

const bytes = readFileSync(process.argv[2]);
const stream = Stream.fromByteArray(Array.from(bytes));
const decoder = new Decoder(stream);
const integrity = decoder.isFIT() && decoder.checkIntegrity();
const { messages, errors } = decoder.read({
  convertTypesToStrings: true,
  convertDateTimesToDates: false,
  expandSubFields: true,
  applyScaleAndOffset: true,
});
process.stdout.write(
  JSON.stringify({ integrity, errors: errors.map(String), messages }, (k, v) =>
    typeof v === "bigint" ? Number(v) : v,
  ),
);
