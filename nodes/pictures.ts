/**
 * The bfl-fill nodes' pictures for the editor: the last result's preview (under the node in the workspace)
 * and the last input as a thumbnail (the background of the dialog's mask painter). Both are kept in the
 * runtime (lib/engine/retained, bounded), so an editor opened or reloaded later shows them:
 *   GET bfl-fill/previews       every preview kept, by node id (the editor asks once when it loads)
 *   GET bfl-fill/:id/input      the node's last input thumbnail, { dataUrl } of a JPEG; 404 before its first
 *                               message (JSON, so the editor's $.getJSON sends it with the admin token)
 * New previews also go to open editors over comms (`bfl-fill/preview/<id>`, null when the node stops).
 */
import type { Request, Response } from 'express';
import type { NodeAPI } from 'node-red';
import { RetainedStore } from '../lib/engine/retained';
import type { Preview } from '../lib/image';

/** Previews are at most 160 pixels a side (some kB each): room for hundreds of nodes. */
const PREVIEWS_MAX_BYTES = 2 * 1024 * 1024;
/** Input thumbnails are bigger (the painter's background), so fewer are kept. */
const INPUTS_MAX_BYTES = 16 * 1024 * 1024;

export interface NodePictures {
  /** Keeps the node's preview and sends it to every open editor. */
  showPreview(nodeId: string, preview: Preview): void;
  /** Forgets it and tells open editors to drop it. */
  clearPreview(nodeId: string): void;
  keepInput(nodeId: string, thumbnail: Buffer): void;
  dropInput(nodeId: string): void;
}

function previewTopic(id: string): string {
  return `bfl-fill/preview/${id}`;
}

export function nodePictures(RED: NodeAPI): NodePictures {
  const previews = new RetainedStore<Preview>(PREVIEWS_MAX_BYTES, (preview) => preview.dataUrl.length);
  const inputs = new RetainedStore<Buffer>(INPUTS_MAX_BYTES, (jpeg) => jpeg.length);
  const read = RED.auth.needsPermission('bfl-fill.read');

  RED.httpAdmin.get('/bfl-fill/previews', read, (_req: Request, res: Response) => {
    res.json(Object.fromEntries(previews.entries()));
  });
  RED.httpAdmin.get('/bfl-fill/:id/input', read, (req: Request, res: Response) => {
    const jpeg = inputs.get(String(req.params.id));
    if (!jpeg) {
      res.sendStatus(404);
      return;
    }
    // A new message replaces it, so the browser must not keep an old one.
    res.set('Cache-Control', 'no-store').json({ dataUrl: `data:image/jpeg;base64,${jpeg.toString('base64')}` });
  });

  return {
    showPreview(nodeId, preview) {
      previews.put(nodeId, preview);
      RED.comms.publish(previewTopic(nodeId), preview, false);
    },
    clearPreview(nodeId) {
      previews.delete(nodeId);
      RED.comms.publish(previewTopic(nodeId), null, false);
    },
    keepInput: (nodeId, thumbnail) => inputs.put(nodeId, thumbnail),
    dropInput: (nodeId) => inputs.delete(nodeId),
  };
}
