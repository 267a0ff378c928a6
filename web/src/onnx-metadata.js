// The sketch-edge metadata of an ONNX file, read from its bytes: onnxruntime-web does not expose
// `metadata_props`, and the page must take its labels from the model itself. Walks the top level
// of the ModelProto protobuf and decodes field 14 (StringStringEntryProto: key = 1, value = 2).

const METADATA_PROPS = 14;

function readVarint(bytes, pos) {
  let value = 0, shift = 0, byte;
  do {
    if (pos >= bytes.length) throw new Error("truncated protobuf varint");
    byte = bytes[pos++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, pos];
}

/** Yields [fieldNumber, wireType, valueOrBytes] for each top-level field of a protobuf message. */
function* fields(bytes) {
  let pos = 0;
  while (pos < bytes.length) {
    let key, value;
    [key, pos] = readVarint(bytes, pos);
    const field = Math.floor(key / 8), wire = key % 8;
    if (wire === 0) {
      [value, pos] = readVarint(bytes, pos);
    } else if (wire === 2) {
      let length;
      [length, pos] = readVarint(bytes, pos);
      if (pos + length > bytes.length) throw new Error("truncated protobuf field");
      value = bytes.subarray(pos, pos + length);
      pos += length;
    } else if (wire === 1 || wire === 5) {
      pos += wire === 1 ? 8 : 4;
    } else {
      throw new Error(`not an ONNX model (protobuf wire type ${wire})`);
    }
    yield [field, wire, value];
  }
}

/** ONNX file bytes -> its metadata_props as an object of strings. */
export function metadataProps(bytes) {
  const decoder = new TextDecoder();
  const props = {};
  for (const [field, wire, value] of fields(bytes)) {
    if (field !== METADATA_PROPS || wire !== 2) continue;
    let key = "", text = "";
    for (const [f, w, v] of fields(value)) {
      if (w !== 2) continue;
      if (f === 1) key = decoder.decode(v);
      if (f === 2) text = decoder.decode(v);
    }
    props[key] = text;
  }
  return props;
}

/** The sketch-edge metadata (labels, input contract, model, recipe) or an Error saying what is missing. */
export function sketchEdgeMetadata(bytes) {
  const props = metadataProps(bytes);
  if (!("sketch_edge" in props)) throw new Error("the model carries no sketch-edge metadata (export it with `make export`)");
  const metadata = JSON.parse(props.sketch_edge);
  if (!Array.isArray(metadata.labels) || !metadata.labels.length) throw new Error("the model's metadata has no labels");
  return metadata;
}
