import JSZip from 'jszip';

/**
 * The files of a deploy's zip (the Metadata API's `ZipFile`, base64 in the SOAP body), by path with
 * forward slashes. JSZip is the zip library the CLI's own source-deploy-retrieve builds the package
 * with, so the emulator reads exactly what the CLI writes (see README.md, Libraries).
 */
export async function readZip(zip: Buffer): Promise<Map<string, Buffer>> {
  const archive = await JSZip.loadAsync(zip);
  const files = new Map<string, Buffer>();
  for (const entry of Object.values(archive.files)) {
    if (entry.dir) continue;
    files.set(entry.name.replace(/\\/g, '/'), await entry.async('nodebuffer'));
  }
  return files;
}
