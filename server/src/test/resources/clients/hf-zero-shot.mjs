// Zero-shot classifies images with the @huggingface/inference client, as a user of Inference Endpoints would.
// Usage: node hf-zero-shot.mjs <endpointUrl> <token or "-"> <labels as JSON> <template or "-"> <image>...
// Prints one JSON line: {"results": [<answer per image>]} or {"error": "<message>", "name": "<error class>"}.
import { readFile } from "node:fs/promises";
import { InferenceClient, zeroShotImageClassification } from "@huggingface/inference";

const [endpointUrl, token, labels, template, ...images] = process.argv.slice(2);
const accessToken = token === "-" ? undefined : token;
const parameters = { candidate_labels: JSON.parse(labels) };
if (template !== "-") {
  parameters.hypothesis_template = template;
}
try {
  const results = [];
  for (const [i, image] of images.entries()) {
    const data = new Blob([await readFile(image)]);
    // both call forms of the client (the function with endpointUrl, InferenceClient.endpoint(url)) and both input
    // forms (a Blob, and the legacy {image: Blob}); each sends {"inputs": {"image": "<base64>"}, "parameters": ...}
    results.push(i % 2 === 0
      ? await zeroShotImageClassification({ endpointUrl, inputs: data, parameters, accessToken })
      : await new InferenceClient(accessToken).endpoint(endpointUrl)
          .zeroShotImageClassification({ inputs: { image: data }, parameters }));
  }
  console.log(JSON.stringify({ results }));
} catch (e) {
  console.log(JSON.stringify({ error: String(e.message), name: e.constructor.name }));
}
