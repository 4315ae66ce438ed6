/** The application menu: few items, standard roles; reload and devtools only in development. */
import { Menu, type MenuItemConstructorOptions } from 'electron';

export function buildMenu(opts: { isPackaged: boolean; openDataFolder(): void }): Menu {
  const template: MenuItemConstructorOptions[] = [
    {
      label: 'File',
      submenu: [{ label: 'Open data folder', click: () => opts.openDataFolder() }, { type: 'separator' }, { role: 'quit' }],
    },
    { label: 'Edit', submenu: [{ role: 'undo' }, { role: 'redo' }, { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }] },
    {
      label: 'View',
      submenu: [
        ...(opts.isPackaged ? [] : ([{ role: 'reload' }, { role: 'toggleDevTools' }, { type: 'separator' }] as MenuItemConstructorOptions[])),
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    {
      label: 'Help',
      submenu: [
        {
          label: 'Keyboard shortcuts',
          enabled: false,
          sublabel: 'Worklist: j/k ↑/↓ move, Enter open · Viewer: ↑/↓ or wheel slices, 1–0 windows, drag W/L, r reset, Esc back',
        },
        { label: 'Models: trained on synthetic data only, not clinically validated', enabled: false },
      ],
    },
  ];
  return Menu.buildFromTemplate(template);
}
