// Classifies images with the @huggingface/inference client, as a user of Inference Endpoints would.
// Usage: node hf-image-classification.mjs <endpointUrl> <token or "-"> <image>...
// Prints one JSON line: {"results": [<answer per image>]} or {"error": "<message>", "name": "<error class>"}.
import { readFile } from "node:fs/promises";
import { InferenceClient, imageClassification } from "@huggingface/inference";

const [endpointUrl, token, ...images] = process.argv.slice(2);
const accessToken = token === "-" ? undefined : token;
try {
  const results = [];
  for (const [i, image] of images.entries()) {
    const data = new Blob([await readFile(image)]);
    // both call forms of the client: the function with endpointUrl, and InferenceClient.endpoint(url)
    results.push(i % 2 === 0
      ? await imageClassification({ endpointUrl, data, accessToken })
      : await new InferenceClient(accessToken).endpoint(endpointUrl).imageClassification({ data }));
  }
  console.log(JSON.stringify({ results }));
} catch (e) {
  console.log(JSON.stringify({ error: String(e.message), name: e.constructor.name }));
}
